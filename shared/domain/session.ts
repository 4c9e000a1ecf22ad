import { NotFoundError } from "../error.ts"
import { Identifier } from "../id.ts"
import { Path } from "../path.ts"
import type { Ports } from "../ports.ts"
import type { MessageWithParts, MessageListQuery } from "../schema/message.ts"
import type {
  Session,
  SessionCreateInput,
  SessionListQuery,
  SessionStatus,
  SessionUpdateInput,
} from "../schema/session.ts"
import { Bus } from "./bus.ts"
import { MessageCursor } from "./message-cursor.ts"
import { Projects } from "./project.ts"
import { createSlug } from "./slug.ts"
import { Todos } from "./todo.ts"
import { ToolPermission } from "./tool-permission.ts"

export namespace Sessions {
  export async function get(ports: Ports, sessionID: string): Promise<Session> {
    const session = await ports.sessions.get(sessionID)
    if (!session) throw new NotFoundError({ message: `Session not found: ${sessionID}` })
    return session
  }

  export async function create(ports: Ports, directory: string, input: SessionCreateInput): Promise<Session> {
    if (input.parentID) await get(ports, input.parentID)
    const project = await Projects.current(ports, directory)
    const now = ports.clock.now()
    const kind = input.parentID ? "Child session" : "New session"
    const session: Session = {
      id: Identifier.descending("session", now),
      slug: createSlug(),
      projectID: project.id,
      directory,
      path: Path.relativeInside(project.worktree, directory) ?? "",
      title: input.title ?? `${kind} - ${new Date(now).toISOString()}`,
      version: ports.config.version,
      time: { created: now, updated: now },
      ...pickDefined(input, ["parentID", "agent", "model", "metadata", "permission", "workspaceID"]),
    }
    await ports.sessions.put(session)
    await Bus.publish(ports, directory, "session.created", { sessionID: session.id, info: session })
    return session
  }

  export async function list(ports: Ports, directory: string, query: SessionListQuery): Promise<Session[]> {
    const filter = { roots: query.roots, start: query.start, search: query.search }
    // The store pages by itself; a path filter is tested here, so then the limit is too.
    if (query.path === undefined) return ports.sessions.list(directory, { ...filter, limit: query.limit })
    const sessions = (await ports.sessions.list(directory, filter)).filter((session) => isUnderPath(session.path ?? "", query.path!))
    return query.limit === undefined ? sessions : sessions.slice(0, query.limit)
  }

  export async function update(ports: Ports, sessionID: string, input: SessionUpdateInput): Promise<Session> {
    const session = await get(ports, sessionID)
    const time = { ...session.time, updated: ports.clock.now() }
    if (input.time && "archived" in input.time) {
      if (input.time.archived === null || input.time.archived === undefined) delete time.archived
      else time.archived = input.time.archived
    }
    const next: Session = { ...session, ...pickDefined(input, ["title", "metadata", "permission"]), time }
    await save(ports, next)
    return next
  }

  /** Stores a changed session and tells subscribers. */
  export async function save(ports: Ports, session: Session): Promise<void> {
    await ports.sessions.put(session)
    await Bus.publish(ports, session.directory, "session.updated", { sessionID: session.id, info: session })
  }

  export async function children(ports: Ports, sessionID: string): Promise<Session[]> {
    const parent = await get(ports, sessionID)
    return (await ports.sessions.list(parent.directory)).filter((session) => session.parentID === sessionID)
  }

  /**
   * Deletes a session and, first, its children, as upstream does. Its records in `ports.records` go before the
   * session itself: interrupted in between, the session is still there and a repeated DELETE finishes the job.
   */
  export async function remove(ports: Ports, sessionID: string): Promise<void> {
    const session = await get(ports, sessionID)
    for (const child of await children(ports, sessionID)) await remove(ports, child.id)
    // A deleted session's link dies with it, so a later session cannot turn up behind it.
    if (session.share) await ports.shareLinks.remove(session.id)
    await Todos.remove(ports, session.id)
    await ToolPermission.forget(ports, session.id)
    await ports.sessions.remove(session)
    await Bus.publish(ports, session.directory, "session.deleted", { sessionID: session.id, info: session })
  }

  /**
   * A page of messages, oldest first: the newest `limit` (0 or none: all) older than `before`. `next` is the
   * cursor of the page before this one, when there is one (upstream's x-next-cursor).
   */
  export async function messages(ports: Ports, sessionID: string, query: MessageListQuery): Promise<{ messages: MessageWithParts[]; next?: string }> {
    await get(ports, sessionID)
    const before = query.before === undefined ? undefined : MessageCursor.decode(query.before)
    if (!query.limit) return { messages: await ports.sessions.messages(sessionID, { before }) }
    // One more than asked for tells whether an older page exists.
    const messages = await ports.sessions.messages(sessionID, { before, limit: query.limit + 1 })
    if (messages.length <= query.limit) return { messages }
    const page = messages.slice(1)
    return { messages: page, next: MessageCursor.encode(page[0]!.info) }
  }

  export async function message(ports: Ports, sessionID: string, messageID: string): Promise<MessageWithParts> {
    await get(ports, sessionID)
    const found = await ports.sessions.message(sessionID, messageID)
    if (!found) throw new NotFoundError({ message: `Message not found: ${messageID}` })
    return found
  }

  export async function messageByID(ports: Ports, messageID: string): Promise<MessageWithParts> {
    const sessionID = await ports.sessions.locateMessage(messageID)
    if (!sessionID) throw new NotFoundError({ message: `Message not found: ${messageID}` })
    return message(ports, sessionID, messageID)
  }

  /** A new session holding copies of the messages before `messageID` (all of them without it). */
  export async function fork(ports: Ports, sessionID: string, messageID?: string): Promise<Session> {
    const source = await get(ports, sessionID)
    const history = await ports.sessions.messages(sessionID, {})
    if (messageID && !history.some((entry) => entry.info.id === messageID)) {
      throw new NotFoundError({ message: `Message not found: ${messageID}` })
    }
    const forked = await create(ports, source.directory, { title: forkTitle(source.title) })
    const idMap = new Map<string, string>()
    for (const { info, parts } of history) {
      if (info.id === messageID) break
      const now = ports.clock.now()
      const id = Identifier.ascending("message", now)
      idMap.set(info.id, id)
      const copy =
        info.role === "assistant"
          ? { ...info, id, sessionID: forked.id, parentID: idMap.get(info.parentID) ?? info.parentID }
          : { ...info, id, sessionID: forked.id }
      const copiedParts = parts.map((part) => ({
        ...part,
        id: Identifier.ascending("part", now),
        sessionID: forked.id,
        messageID: id,
      }))
      await ports.sessions.putMessage(copy, copiedParts)
    }
    return forked
  }

  export async function statuses(ports: Ports, directory: string): Promise<Record<string, SessionStatus>> {
    return ports.sessions.status(directory)
  }

  export async function setStatus(ports: Ports, session: Session, status: SessionStatus): Promise<void> {
    await ports.sessions.setStatus(session.directory, session.id, status)
    await Bus.publish(ports, session.directory, "session.status", { sessionID: session.id, status })
    if (status.type === "idle") await Bus.publish(ports, session.directory, "session.idle", { sessionID: session.id })
  }
}

function forkTitle(title: string): string {
  const match = title.match(/^(.*) \(fork #(\d+)\)$/)
  return match ? `${match[1]} (fork #${Number(match[2]) + 1})` : `${title} (fork #1)`
}

function isUnderPath(sessionPath: string, path: string): boolean {
  const wanted = path.replace(/^\/+|\/+$/g, "")
  return wanted === "" || sessionPath === wanted || sessionPath.startsWith(wanted + "/")
}

function pickDefined<T extends object, K extends keyof T>(input: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const key of keys) if (input[key] !== undefined) out[key] = input[key]
  return out
}
