import type { Ports } from "../ports.ts"
import type { MessageWithParts } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import type { SnapshotPatch } from "../schema/snapshot.ts"
import { machineUnavailable } from "../machine.ts"
import { Bus } from "./bus.ts"
import { Configs } from "./config.ts"
import { assertSessionIdle } from "./session-busy.ts"
import { Sessions } from "./session.ts"
import { SessionSummary } from "./session-summary.ts"
import { Snapshots } from "./snapshot.ts"

/**
 * Undo and redo of a session's turns, as upstream: a revert puts back the files every later step changed (each
 * `patch` part's files as they were in its step's first snapshot) and marks the session reverted; unrevert
 * writes the snapshot taken at the revert back; the next prompt after a revert drops the reverted messages. The
 * files are the machine's: without one, reverting what a step changed answers MachineUnavailable.
 */
export namespace SessionRevert {
  export interface RevertInput {
    messageID: string
    partID?: string
  }

  export async function revert(ports: Ports, sessionID: string, input: RevertInput): Promise<Session> {
    const session = await Sessions.get(ports, sessionID)
    await assertSessionIdle(ports, session)
    const all = await ports.sessions.messages(sessionID, {})
    const point = revertPoint(all, input)
    if (!point) return session
    const patches: SnapshotPatch[] = all
      .flatMap(({ parts }) => parts)
      .flatMap((part) => (part.type === "patch" && part.id > point.after ? [{ hash: part.hash, files: part.files }] : []))
    const directory = session.directory
    if (patches.length && !ports.machine) throw machineUnavailable()
    const config = await Configs.get(ports, directory)
    const snapshot = session.revert?.snapshot ?? (await Snapshots.track(ports, directory, config))
    if (patches.length) await ports.machine!.snapshot.revert(directory, patches)
    const diff = snapshot && ports.machine ? await ports.machine.snapshot.diffText(directory, snapshot) : undefined
    const diffs = await SessionSummary.computeDiff(ports, directory, all.filter((entry) => entry.info.id >= point.messageID))
    await Bus.publish(ports, directory, "session.diff", { sessionID, diff: diffs })
    const revert = { messageID: point.messageID, ...(point.partID ? { partID: point.partID } : {}), ...(snapshot ? { snapshot } : {}), ...(diff !== undefined ? { diff } : {}) }
    const summary = {
      additions: diffs.reduce((sum, file) => sum + file.additions, 0),
      deletions: diffs.reduce((sum, file) => sum + file.deletions, 0),
      files: diffs.length,
    }
    const next: Session = { ...(await Sessions.get(ports, sessionID)), revert, summary, time: { ...session.time, updated: ports.clock.now() } }
    await Sessions.save(ports, next)
    return next
  }

  export async function unrevert(ports: Ports, sessionID: string): Promise<Session> {
    const session = await Sessions.get(ports, sessionID)
    await assertSessionIdle(ports, session)
    if (!session.revert) return session
    if (session.revert.snapshot) {
      if (!ports.machine) throw machineUnavailable()
      await ports.machine.snapshot.restore(session.directory, session.revert.snapshot)
    }
    const { revert: _undone, ...rest } = session
    const next: Session = { ...rest, time: { ...session.time, updated: ports.clock.now() } }
    await Sessions.save(ports, next)
    return next
  }

  /**
   * Before a prompt to a reverted session: the reverted messages go (from the revert's message on; with a part,
   * that message stays and loses the parts from that part on), each announced, and the session is no longer reverted.
   */
  export async function cleanup(ports: Ports, session: Session): Promise<Session> {
    const revert = session.revert
    if (!revert) return session
    const messages = await ports.sessions.messages(session.id, {})
    for (const { info, parts } of messages) {
      if (info.id < revert.messageID) continue
      if (info.id === revert.messageID && revert.partID) {
        for (const part of parts.filter((part) => part.id >= revert.partID!)) {
          await ports.sessions.removePart(session.id, info.id, part.id)
          await Bus.publish(ports, session.directory, "message.part.removed", { sessionID: session.id, messageID: info.id, partID: part.id })
        }
        continue
      }
      await ports.sessions.removeMessage(session.id, info.id)
      await Bus.publish(ports, session.directory, "message.removed", { sessionID: session.id, messageID: info.id })
    }
    const { revert: _dropped, ...rest } = await Sessions.get(ports, session.id)
    const next: Session = { ...rest, time: { ...rest.time, updated: ports.clock.now() } }
    await Sessions.save(ports, next)
    return next
  }

  /**
   * Where a revert starts, as upstream finds it: the named message (or the message of the named part). Reverting a
   * whole message starts at the user message it answers; reverting from a part keeps that message's earlier text
   * and tool parts (with none of those, the whole message goes). `after`: the id every reverted part exceeds.
   */
  function revertPoint(all: MessageWithParts[], input: RevertInput): { messageID: string; partID?: string; after: string } | undefined {
    let lastUser: string | undefined
    for (const { info, parts } of all) {
      if (info.role === "user") lastUser = info.id
      for (const [index, part] of parts.entries()) {
        const hit = input.partID ? part.id === input.partID : info.id === input.messageID
        if (!hit) continue
        const kept = parts.slice(0, index).some((earlier) => earlier.type === "text" || earlier.type === "tool")
        const partID = input.partID && kept ? input.partID : undefined
        const messageID = !partID && lastUser ? lastUser : info.id
        return { messageID, ...(partID ? { partID } : {}), after: part.id }
      }
    }
    return undefined
  }
}
