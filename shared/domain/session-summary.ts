import type { Ports } from "../ports.ts"
import type { MessageWithParts } from "../schema/message.ts"
import type { FileDiff, Session } from "../schema/session.ts"
import { Bus } from "./bus.ts"
import { Sessions } from "./session.ts"

/**
 * What a prompt's turn changed, as upstream 1.18 keeps it: the user message's `summary.diffs` (from the first
 * snapshot of its steps to the last), which `GET /session/:id/diff?messageID=` answers. Upstream then resets the
 * session's `summary` to zero and announces an empty `session.diff`; the session's real totals are set when a
 * revert computes them (SessionRevert).
 */
export namespace SessionSummary {
  /** The diff between the first step-start snapshot and the last step-finish snapshot of `messages`. */
  export async function computeDiff(ports: Ports, directory: string, messages: MessageWithParts[]): Promise<FileDiff[]> {
    let from: string | undefined
    let to: string | undefined
    for (const { parts } of messages) {
      for (const part of parts) {
        if (part.type === "step-start" && part.snapshot) from ??= part.snapshot
        if (part.type === "step-finish" && part.snapshot) to = part.snapshot
      }
    }
    if (!ports.machine || !from || !to) return []
    return ports.machine.snapshot.diff(directory, from, to)
  }

  /** After a step of the turn answering `userID`: the user message's diffs, the session's zeroed summary. */
  export async function summarize(ports: Ports, session: Session, userID: string): Promise<void> {
    const all = await ports.sessions.messages(session.id, {})
    const messages = all.filter((entry) => entry.info.id === userID || (entry.info.role === "assistant" && entry.info.parentID === userID))
    const user = messages.find((entry) => entry.info.id === userID)
    if (!user || user.info.role !== "user") return
    const diffs = await computeDiff(ports, session.directory, messages).catch((error) => {
      ports.log.warn("session diff failed", { sessionID: session.id, error: error instanceof Error ? error.message : String(error) })
      return undefined
    })
    if (!diffs) return
    const current = await Sessions.get(ports, session.id)
    await Sessions.save(ports, { ...current, summary: { additions: 0, deletions: 0, files: 0 } })
    await Bus.publish(ports, session.directory, "session.diff", { sessionID: session.id, diff: [] })
    if (JSON.stringify(user.info.summary?.diffs ?? []) === JSON.stringify(diffs) && user.info.summary) return
    const info = { ...user.info, summary: { ...user.info.summary, diffs } }
    await ports.sessions.putMessage(info, [])
    await Bus.publish(ports, session.directory, "message.updated", { sessionID: session.id, info })
  }

  /** `GET /session/:id/diff`: the user message's diffs; nothing without one (as upstream 1.18). */
  export async function diff(ports: Ports, sessionID: string, messageID: string | undefined): Promise<FileDiff[]> {
    await Sessions.get(ports, sessionID)
    if (!messageID) return []
    const message = await ports.sessions.message(sessionID, messageID)
    return message?.info.role === "user" ? (message.info.summary?.diffs ?? []) : []
  }
}
