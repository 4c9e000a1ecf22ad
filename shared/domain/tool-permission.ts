import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError } from "../error.ts"
import { PermissionAction, PermissionConfig } from "../schema/config.ts"
import type { MachineToolID, ToolArgs } from "../tools.ts"
import { Configs } from "./config.ts"
import { Permissions } from "./questions.ts"

/** The config's permission rules refuse this tool call outright. */
export const PermissionDeniedError = defineError(
  "PermissionDeniedError",
  z.object({ message: z.string(), permission: z.string(), pattern: z.string() }),
  403,
)

/**
 * The config's `permission` rules around machine tools run inside a session (upstream's semantics): each tool
 * maps to a permission (write and edit are both `edit`) and a subject (the command, the file, the pattern);
 * the rule for that permission, or `"*"`, is an action or a map of wildcard patterns to actions (the last
 * matching pattern wins). Without a rule the call is allowed. `ask` puts a permission request to the session's
 * user and waits; "always" approves the same subject for the rest of the session.
 */
export namespace ToolPermission {
  interface Approval {
    permission: string
    pattern: string
  }
  const approvalsKey = (sessionID: string) => `permission-always/${sessionID}`

  const PERMISSION: Record<MachineToolID, string> = {
    read: "read",
    list: "list",
    glob: "glob",
    grep: "grep",
    write: "edit",
    edit: "edit",
    bash: "bash",
  }

  function subject(toolID: MachineToolID, args: ToolArgs<MachineToolID>): string {
    const fields = args as Record<string, unknown>
    const value = toolID === "bash" ? fields.command : (fields.filePath ?? fields.pattern ?? fields.path)
    return typeof value === "string" ? value : "."
  }

  /** The call's arguments for the user to judge, long texts (a file's new content) cut to a preview. */
  function shown(args: Record<string, unknown>): Record<string, unknown> {
    const PREVIEW_CHARS = 4096
    return Object.fromEntries(
      Object.entries(args).map(([key, value]) =>
        typeof value === "string" && value.length > PREVIEW_CHARS ? [key, `${value.slice(0, PREVIEW_CHARS)}… (${value.length} characters)`] : [key, value],
      ),
    )
  }

  /** `*` matches any run of characters, `?` one; everything else literally. */
  export function matches(value: string, pattern: string): boolean {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*").replace(/\?/g, "[\\s\\S]")
    return new RegExp(`^${source}$`).test(value)
  }

  export function evaluate(config: PermissionConfig | undefined, permission: string, value: string): PermissionAction {
    if (config === undefined) return "allow"
    if (typeof config === "string") return config
    const fallback = typeof config["*"] === "string" ? config["*"] : "allow"
    const rule = config[permission] ?? config["*"]
    if (rule === undefined) return "allow"
    if (typeof rule === "string") return rule
    let action: PermissionAction | undefined
    for (const [pattern, candidate] of Object.entries(rule)) if (matches(value, pattern)) action = candidate
    return action ?? fallback
  }

  /**
   * Resolves when the call may run; throws PermissionDeniedError (403), or the reply's PermissionRejectedError
   * (409), or RequestDisposedError (410) when the request is withdrawn (`signal`, dispose).
   */
  export async function check(
    ports: Ports,
    call: { directory: string; sessionID: string; toolID: MachineToolID; args: ToolArgs<MachineToolID>; signal?: AbortSignal },
  ): Promise<void> {
    const permission = PERMISSION[call.toolID]
    const value = subject(call.toolID, call.args)
    const parsed = PermissionConfig.safeParse((await Configs.get(ports)).permission)
    const action = evaluate(parsed.success ? parsed.data : undefined, permission, value)
    if (action === "allow") return
    if (action === "deny") {
      throw new PermissionDeniedError({ message: `The config denies ${permission} for ${value}`, permission, pattern: value })
    }
    const approvals = (await ports.records.get<Approval[]>(approvalsKey(call.sessionID))) ?? []
    if (approvals.some((approval) => approval.permission === permission && matches(value, approval.pattern))) return
    // "always" approves this exact command for bash, and every subject of the other permissions.
    const always = call.toolID === "bash" ? value : "*"
    const reply = await Permissions.ask(
      ports,
      {
        directory: call.directory,
        sessionID: call.sessionID,
        permission,
        patterns: [value],
        always: [always],
        metadata: { tool: call.toolID, ...shown(call.args as Record<string, unknown>) },
      },
      { signal: call.signal },
    )
    if (reply === "always") await ports.records.put(approvalsKey(call.sessionID), [...approvals, { permission, pattern: always }])
  }

  /** Forgets a session's "always" approvals (the session is gone). */
  export async function forget(ports: Ports, sessionID: string): Promise<void> {
    await ports.records.delete(approvalsKey(sessionID))
  }
}
