import { z } from "zod"

/** The machine's agent-only routes for a session's shell command (`POST /session/:id/shell`), which the edge calls through the tunnel. */
export const SHELL_RUN_PATHS = {
  run: "/machine/shell/run",
  abort: "/machine/shell/abort",
} as const

/** A shell command to run on the machine; `runID` names it for an abort (one per session: its session id). */
export const ShellRunInput = z.object({
  runID: z.string().min(1),
  command: z.string().min(1),
  /** The config's `shell`, which upstream prefers to `$SHELL`. */
  shell: z.string().optional(),
})
export type ShellRunInput = z.infer<typeof ShellRunInput>

export const ShellAbortInput = z.object({ runID: z.string().min(1) })

/** What the command printed (stdout and stderr as they came), and whether an abort stopped it. */
export const ShellRunResult = z.object({ output: z.string(), aborted: z.boolean() })
export type ShellRunResult = z.infer<typeof ShellRunResult>

export const ShellAbortResult = z.object({ aborted: z.boolean() })
