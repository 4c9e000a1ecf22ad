import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError } from "../error.ts"
import type { Agent } from "../schema/app-info.ts"
import type { Session } from "../schema/session.ts"
import { isToolID, type ToolArgs, type ToolID } from "../tools.ts"
import { Path } from "../path.ts"
import { Agents } from "./agent.ts"
import { Records } from "./records.ts"
import { BashArity } from "./bash-arity.ts"
import { ShellCommand } from "./shell-command.ts"
import { Permissions } from "./questions.ts"

/** The permission rules (the agent's, the config's, the session's) refuse this tool call outright. */
export const PermissionDeniedError = defineError(
  "PermissionDeniedError",
  z.object({ message: z.string(), permission: z.string(), pattern: z.string() }),
  403,
)

/**
 * Upstream's permission rules around tool calls made for a session: each tool maps to a permission (write and
 * edit are both `edit`; the server tools are their own) and subjects: each simple command of a bash line, the
 * path relative to the directory, the pattern, the URL. The ruleset is the agent's (upstream's defaults, the agent's own,
 * then the config's `permission`, then the config agent's), then the session's; for each subject the last rule
 * whose permission and pattern both match decides, and one denied subject denies the call. `ask` puts a
 * permission request to the session's user and waits; "always" approves for the rest of the session the
 * request's `always` patterns: each command's family for bash (`git status -s` approves `git status *`), every
 * subject for the other permissions.
 */
export namespace ToolPermission {
  type Rule = Agent["permission"][number]
  /** An "always" reply: the permission's subjects matching the pattern run without asking. */
  interface Approval {
    permission: string
    pattern: string
  }
  // Approvals once named exact subjects under `permission-always/`; this key leaves those behind.
  const approvalsKey = (sessionID: string) => `permission-approved/${sessionID}`

  const PERMISSION: Record<ToolID, string> = {
    read: "read",
    list: "list",
    glob: "glob",
    grep: "grep",
    write: "edit",
    edit: "edit",
    bash: "bash",
    question: "question",
    todowrite: "todowrite",
    todoread: "todoread",
    task: "task",
    webfetch: "webfetch",
    skill: "skill",
  }

  /** A path argument as the rules see it: relative to the directory and normalised (`./a`, `x/../a`, `/dir/a` are `a`). */
  function pathSubject(directory: string, path: string): string {
    const base = Path.normalize(directory)
    const absolute = Path.normalize(Path.isAbsolute(path) ? path : `${base}/${path}`)
    const relative = Path.relativeInside(base, absolute)
    return relative === undefined ? absolute : relative || "."
  }

  /** What the rules judge, each once: each simple command of a bash line, a tool's path or pattern, the URL to fetch, else "*". */
  function subjects(directory: string, toolID: ToolID, args: ToolArgs<ToolID>): string[] {
    return [...new Set(subjectList(directory, toolID, args))]
  }

  function subjectList(directory: string, toolID: ToolID, args: ToolArgs<ToolID>): string[] {
    const fields = args as Record<string, unknown>
    if (toolID === "bash") {
      const command = fields.command as string
      const parts = ShellCommand.parts(command)
      return parts.length ? parts : [command]
    }
    if (toolID === "glob" || toolID === "grep") return [fields.pattern as string]
    if (toolID === "task") return [fields.subagent_type as string]
    if (toolID === "webfetch") return [fields.url as string]
    if (toolID === "skill") return [fields.name as string]
    const path = fields.filePath ?? fields.path
    if (typeof path === "string") return [pathSubject(directory, path)]
    return toolID === "list" ? ["."] : ["*"]
  }

  /**
   * What an "always" reply approves, as upstream: for bash each command's family, named by its leading words as
   * BashArity counts them (`git status -s` → `git status *`, `echo hi` → `echo *`); the skill's own name for skill; every subject otherwise.
   */
  function alwaysPatterns(toolID: ToolID, subjects: string[]): string[] {
    if (toolID === "skill") return subjects
    if (toolID !== "bash") return ["*"]
    return [...new Set(subjects.map((command) => `${BashArity.prefix(ShellCommand.words(command)).join(" ")} *`))]
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

  /**
   * `*` matches any run of characters, `?` one; everything else literally (a `*` in the value is just a
   * character). As upstream, a pattern ending in " *" also matches the bare command (`git *` matches `git`).
   * A two-pointer walk that backtracks only to the last `*`: O(value × pattern) whatever the pattern.
   */
  export function matches(value: string, pattern: string): boolean {
    if (pattern.endsWith(" *") && value === pattern.slice(0, -2)) return true
    let v = 0
    let p = 0
    let star = -1
    let resume = 0
    while (v < value.length) {
      if (pattern[p] === "*") {
        star = p++
        resume = v
      } else if (p < pattern.length && (pattern[p] === "?" || pattern[p] === value[v])) {
        v++
        p++
      } else if (star >= 0) {
        p = star + 1
        v = ++resume
      } else return false
    }
    while (pattern[p] === "*") p++
    return p === pattern.length
  }

  /** The last rule matching both the permission and the subject; `ask` when none does, as upstream. */
  export function evaluate(rules: Rule[], permission: string, value: string): Rule["action"] {
    const rule = rules.findLast((candidate) => matches(permission, candidate.permission) && matches(value, candidate.pattern))
    return rule?.action ?? "ask"
  }

  /** Whether the rules deny the tool's permission for every subject (the last rule for it is `deny` on `*`): it is not offered to the model. */
  export function deniedOutright(rules: Rule[], toolID: string): boolean {
    const permission = isToolID(toolID) ? PERMISSION[toolID] : toolID
    const rule = rules.findLast((candidate) => matches(permission, candidate.permission))
    return rule?.action === "deny" && rule.pattern === "*"
  }

  /**
   * Resolves when the call may run; throws PermissionDeniedError (403), or the reply's PermissionRejectedError
   * (409), or RequestDisposedError (410) when the request is withdrawn (`signal`, dispose).
   */
  export async function check(
    ports: Ports,
    call: {
      directory: string
      session: Session
      agent?: string
      /** A built-in tool, or an MCP server's tool (`<server>_<tool>`: its own permission, judged on `*`). */
      toolID: ToolID | string
      args: ToolArgs<ToolID> | Record<string, unknown>
      signal?: AbortSignal
      /** The turn's tool call this is, so clients show the request with it. */
      messageID?: string
      callID?: string
    },
  ): Promise<void> {
    const builtIn = isToolID(call.toolID) ? call.toolID : undefined
    const permission = builtIn ? PERMISSION[builtIn] : call.toolID
    const agent = await Agents.resolve(ports, call.directory, call.agent)
    const rules = [...agent.permission, ...(call.session.permission ?? [])]
    const judged = builtIn ? subjects(call.directory, builtIn, call.args as ToolArgs<ToolID>) : ["*"]
    const asking: string[] = []
    for (const subject of judged) {
      const action = evaluate(rules, permission, subject)
      if (action === "deny") {
        throw new PermissionDeniedError({ message: `The ${agent.name} agent may not ${permission} ${subject}`, permission, pattern: subject })
      }
      if (action === "ask") asking.push(subject)
    }
    if (asking.length === 0) return
    const sessionID = call.session.id
    const approvals = (await ports.records.get<Approval[]>(approvalsKey(sessionID))) ?? []
    const approved = (subject: string) => approvals.some((approval) => approval.permission === permission && matches(subject, approval.pattern))
    if (asking.every(approved)) return
    // As upstream, the request shows every subject of the call, the allowed ones too, and "always" covers them all.
    const always = builtIn ? alwaysPatterns(builtIn, judged) : ["*"]
    const reply = await Permissions.ask(
      ports,
      {
        directory: call.directory,
        sessionID,
        permission,
        patterns: judged,
        always,
        // An MCP tool's request carries no metadata, as upstream's.
        metadata: builtIn ? { tool: builtIn, ...shown(call.args as Record<string, unknown>) } : {},
        ...(call.messageID && call.callID ? { tool: { messageID: call.messageID, callID: call.callID } } : {}),
      },
      { signal: call.signal },
    )
    // Two "always" replies at once both land (Records.update).
    if (reply === "always") {
      const approving = always.map((pattern) => ({ permission, pattern }))
      await Records.update<Approval[]>(ports.records, approvalsKey(sessionID), (stored) => [...(stored ?? []), ...approving])
    }
  }

  /**
   * The same call for the third time in a row: the `doom_loop` permission decides whether it runs (upstream asks by
   * default), so a model stuck repeating itself is stopped by the user rather than looping to the step limit.
   */
  export async function checkRepeat(
    ports: Ports,
    call: { directory: string; session: Session; agent: Agent; toolID: string; args: unknown; messageID: string; callID: string; signal?: AbortSignal },
  ): Promise<void> {
    const rules = [...call.agent.permission, ...(call.session.permission ?? [])]
    const action = evaluate(rules, "doom_loop", call.toolID)
    if (action === "allow") return
    if (action === "deny") {
      throw new PermissionDeniedError({ message: `The ${call.toolID} call repeats for the third time in a row`, permission: "doom_loop", pattern: call.toolID })
    }
    await Permissions.ask(
      ports,
      {
        directory: call.directory,
        sessionID: call.session.id,
        permission: "doom_loop",
        patterns: [call.toolID],
        always: [call.toolID],
        metadata: { tool: call.toolID, input: call.args },
        tool: { messageID: call.messageID, callID: call.callID },
      },
      { signal: call.signal },
    )
  }

  /** Forgets a session's "always" approvals (the session is gone). */
  export async function forget(ports: Ports, sessionID: string): Promise<void> {
    await ports.records.delete(approvalsKey(sessionID))
  }
}
