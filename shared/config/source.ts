import { z } from "zod"

/**
 * One config source as the machine found it: a JSON(C) file (its `{env:}` and `{file:}` substitutions already
 * made, since they need the machine's environment and files), or a markdown agent or command file (its name is
 * the file name without `.md`). The machine lists them lowest precedence first; `shared/config/` parses,
 * validates and merges them, so both runtimes read config the same way.
 */
export const ConfigSource = z.object({
  /** The file's absolute path (or `OPENCODE_CONFIG_CONTENT` for the inline config): errors name it. */
  path: z.string(),
  kind: z.enum(["json", "agent", "command"]),
  /** The agent's or command's name (markdown sources only). */
  name: z.string().optional(),
  text: z.string(),
})
export type ConfigSource = z.infer<typeof ConfigSource>

/** The local agent's machine-facing route that lists a directory's sources: the edge asks it through the tunnel. */
export const CONFIG_SOURCES_PATH = "/machine/config/sources"

/** One instruction file for the system prompt (AGENTS.md and the like), as the machine found it. */
export const InstructionFile = z.object({ path: z.string(), text: z.string() })
export type InstructionFile = z.infer<typeof InstructionFile>

/** The machine-facing route for a directory's instruction files (`?path=` once per config `instructions` entry). */
export const INSTRUCTIONS_PATH = "/machine/config/instructions"
