import { newestFirst, passesFilter } from "../../shared/domain/session-filter.ts"
import { Identifier } from "../../shared/id.ts"
import { titleLike } from "../../shared/domain/title-search.ts"
import { OrderedIds } from "./ordered-ids.ts"
import { FrozenJson } from "../../shared/frozen-json.ts"
import { TitleIndex } from "./title-index.ts"
import type { KeyValueStore, ProjectStore, SessionFilter, SessionStore } from "../../shared/ports.ts"
import type { Message, MessageWithParts, Part } from "../../shared/schema/message.ts"
import type { Project } from "../../shared/schema/project.ts"
import type { Session, SessionStatus } from "../../shared/schema/session.ts"

/** Every change to durable state, as written to the log. */
export type Mutation =
  | { op: "session.put"; session: Session }
  | { op: "session.remove"; sessionID: string }
  | { op: "message.put"; message: Message; parts: Part[] }
  | { op: "message.remove"; sessionID: string; messageID: string }
  | { op: "part.remove"; sessionID: string; messageID: string; partID: string }
  | { op: "project.put"; project: Project }
  | { op: "record.put"; key: string; value: unknown }
  | { op: "record.delete"; key: string }

interface StoredMessage {
  info: Message
  parts: Map<string, Part>
}

/** A session's messages by id, and their ids in ascending order, so a page is a slice rather than a sort. */
interface SessionMessages {
  byID: Map<string, StoredMessage>
  order: OrderedIds
}

/** The local agent's state in memory. Reads are synchronous; every change goes through `apply`. */
export class State {
  readonly sessions = new Map<string, Session>()
  /** Each directory's session ids, newest last (session ids descend, so this is descending id order). */
  private readonly byDirectory = new Map<string, OrderedIds>()
  /** Each searched directory's titles by trigram: made by its first search (not at start-up), then kept in step. */
  private readonly titleIndexes = new Map<string, TitleIndex>()
  private readonly messagesBySession = new Map<string, SessionMessages>()
  /** Each directory's sessions by update time, for the v2 list; dropped when a session of the directory changes. */
  private readonly byUpdateCache = new Map<string, Session[]>()
  private readonly messageSession = new Map<string, string>()
  readonly projects = new Map<string, Project>()
  readonly records = new Map<string, unknown>()
  /** Busy/idle is about this process's turns, so it is not persisted: after a restart every session is idle. */
  private readonly statuses = new Map<string, Map<string, SessionStatus>>()

  apply(mutation: Mutation): void {
    switch (mutation.op) {
      case "session.put": {
        const { session } = mutation
        const previous = this.sessions.get(session.id)
        if (previous && previous.directory !== session.directory) {
          this.byDirectory.get(previous.directory)?.delete(session.id)
          this.titleIndexes.get(previous.directory)?.delete(session.id)
        }
        if (previous) this.byUpdateCache.delete(previous.directory)
        this.byUpdateCache.delete(session.directory)
        // Stored sessions are values (a change stores a new object), so their JSON text is made once.
        this.sessions.set(session.id, FrozenJson.freeze(session))
        getOrCreate(this.byDirectory, session.directory, () => new OrderedIds(true)).add(session.id)
        this.titleIndexes.get(session.directory)?.set(session.id, session.title)
        return
      }
      case "session.remove": {
        const session = this.sessions.get(mutation.sessionID)
        if (!session) return
        this.sessions.delete(session.id)
        this.byDirectory.get(session.directory)?.delete(session.id)
        this.titleIndexes.get(session.directory)?.delete(session.id)
        this.byUpdateCache.delete(session.directory)
        for (const messageID of this.messagesBySession.get(session.id)?.order.ids ?? []) this.messageSession.delete(messageID)
        this.messagesBySession.delete(session.id)
        this.statuses.get(session.directory)?.delete(session.id)
        return
      }
      case "message.put": {
        const { message, parts } = mutation
        const messages = getOrCreate(this.messagesBySession, message.sessionID, () => ({ byID: new Map(), order: new OrderedIds(false) }))
        const stored = getOrCreate(messages.byID, message.id, () => {
          messages.order.add(message.id)
          return { info: message, parts: new Map() }
        })
        stored.info = message
        for (const part of parts) stored.parts.set(part.id, part)
        this.messageSession.set(message.id, message.sessionID)
        return
      }
      case "message.remove": {
        const messages = this.messagesBySession.get(mutation.sessionID)
        if (!messages?.byID.delete(mutation.messageID)) return
        messages.order.delete(mutation.messageID)
        this.messageSession.delete(mutation.messageID)
        return
      }
      case "part.remove":
        this.messagesBySession.get(mutation.sessionID)?.byID.get(mutation.messageID)?.parts.delete(mutation.partID)
        return
      case "project.put":
        this.projects.set(mutation.project.worktree, mutation.project)
        return
      case "record.put":
        this.records.set(mutation.key, mutation.value)
        return
      case "record.delete":
        this.records.delete(mutation.key)
        return
    }
  }

  /** The mutations that rebuild this state from nothing (for compaction). */
  *snapshot(): Generator<Mutation> {
    for (const project of this.projects.values()) yield { op: "project.put", project }
    for (const [key, value] of this.records) yield { op: "record.put", key, value }
    for (const session of this.sessions.values()) yield { op: "session.put", session }
    for (const messages of this.messagesBySession.values()) {
      for (const { info, parts } of messages.byID.values()) yield { op: "message.put", message: info, parts: [...parts.values()] }
    }
  }

  sessionDirectories(): string[] {
    return [...this.byDirectory.keys()].filter((directory) => this.byDirectory.get(directory)!.ids.length > 0)
  }

  /** Newest first (or by update time), reading only as far as the filter's offset and limit need. */
  sessionList(directory: string, filter: SessionFilter): Session[] {
    const found: Session[] = []
    if (filter.limit === 0) return found
    const matches = filter.search ? titleLike(filter.search) : undefined
    let skip = filter.offset ?? 0
    for (const session of this.inListOrder(directory, filter)) {
      if (!passesFilter(session, filter) || (matches && !matches(session.title))) continue
      if (skip > 0) skip--
      else if (found.push(session) === filter.limit) break
    }
    return found
  }

  /**
   * The directory's sessions in the filter's order. A search that few titles can match reads just those, sorted;
   * one that many can is met on the ordered walk, which stops at the page's end.
   */
  private *inListOrder(directory: string, filter: SessionFilter): Generator<Session> {
    const ids = this.byDirectory.get(directory)?.ids ?? []
    const candidates = filter.search ? this.titleIndex(directory).candidates(filter.search, ids.length / FEW_CANDIDATES) : undefined
    if (candidates) {
      // Session ids descend with time: id order is newest first.
      const order = !filter.byUpdate ? Identifier.byId : filter.byUpdate === "desc" ? newestFirst : (a: Session, b: Session) => newestFirst(b, a)
      yield* [...candidates].map((id) => this.sessions.get(id)!).sort(order)
      return
    }
    const ordered = filter.byUpdate ? this.byUpdate(directory) : undefined
    const count = ordered?.length ?? ids.length
    for (let step = 0; step < count; step++) {
      yield ordered ? ordered[filter.byUpdate === "desc" ? step : count - 1 - step]! : this.sessions.get(ids[count - 1 - step]!)!
    }
  }

  private titleIndex(directory: string): TitleIndex {
    return getOrCreate(this.titleIndexes, directory, () => {
      const index = new TitleIndex()
      for (const id of this.byDirectory.get(directory)?.ids ?? []) index.set(id, this.sessions.get(id)!.title)
      return index
    })
  }

  /** The directory's sessions most recently updated first, sorted again only after one of them changed. */
  private byUpdate(directory: string): Session[] {
    return getOrCreate(this.byUpdateCache, directory, () => (this.byDirectory.get(directory)?.ids ?? []).map((id) => this.sessions.get(id)!).sort(newestFirst))
  }

  messageList(sessionID: string, query: { limit?: number; before?: string }): MessageWithParts[] {
    const messages = this.messagesBySession.get(sessionID)
    if (!messages) return []
    const end = query.before === undefined ? messages.order.ids.length : messages.order.position(query.before)
    const start = query.limit === undefined ? 0 : Math.max(0, end - query.limit)
    return messages.order.ids.slice(start, end).map((id) => toMessage(messages.byID.get(id)!))
  }

  message(sessionID: string, messageID: string): MessageWithParts | undefined {
    const stored = this.messagesBySession.get(sessionID)?.byID.get(messageID)
    return stored && toMessage(stored)
  }

  locateMessage(messageID: string): string | undefined {
    return this.messageSession.get(messageID)
  }

  statusOf(directory: string): Record<string, SessionStatus> {
    return Object.fromEntries(this.statuses.get(directory) ?? [])
  }

  setStatus(directory: string, sessionID: string, status: SessionStatus): void {
    const statuses = getOrCreate(this.statuses, directory, () => new Map())
    if (status.type === "idle") statuses.delete(sessionID)
    else statuses.set(sessionID, status)
  }
}

/** A search's candidates are sorted when they are at most one in this many of the directory's sessions, else walked in order. */
const FEW_CANDIDATES = 8

function toMessage(stored: StoredMessage): MessageWithParts {
  return { info: stored.info, parts: [...stored.parts.values()].sort(Identifier.byId) }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = create()
    map.set(key, value)
  }
  return value
}

/** The SessionStore and ProjectStore ports over a State whose changes are made durable by `commit`. */
export function storePorts(state: State, commit: (mutation: Mutation) => Promise<void>) {
  const sessions: SessionStore = {
    async get(sessionID) {
      return state.sessions.get(sessionID)
    },
    async list(directory, filter = {}) {
      return state.sessionList(directory, filter)
    },
    async directories() {
      return state.sessionDirectories()
    },
    put: (session) => commit({ op: "session.put", session }),
    remove: (session) => commit({ op: "session.remove", sessionID: session.id }),
    async messages(sessionID, query) {
      return state.messageList(sessionID, query)
    },
    async message(sessionID, messageID) {
      return state.message(sessionID, messageID)
    },
    async locateMessage(messageID) {
      return state.locateMessage(messageID)
    },
    putMessage: (message, parts) => commit({ op: "message.put", message, parts }),
    removeMessage: (sessionID, messageID) => commit({ op: "message.remove", sessionID, messageID }),
    removePart: (sessionID, messageID, partID) => commit({ op: "part.remove", sessionID, messageID, partID }),
    async status(directory) {
      return state.statusOf(directory)
    },
    async setStatus(directory, sessionID, status) {
      state.setStatus(directory, sessionID, status)
    },
  }
  const projects: ProjectStore = {
    async get(worktree) {
      return state.projects.get(worktree)
    },
    put: (project) => commit({ op: "project.put", project }),
    async list() {
      return [...state.projects.values()]
    },
    async find(projectID) {
      return [...state.projects.values()].find((project) => project.id === projectID)
    },
  }
  // A change shows in `state` only once the log has it on disk, so writes to one key run one after another,
  // each deciding on what the previous one left: `delete` and `swap` never judge by a value a write in flight
  // is about to replace.
  const writing = new Map<string, Promise<unknown>>()
  function serialized<T>(key: string, write: () => Promise<T>): Promise<T> {
    const result = (writing.get(key) ?? Promise.resolve()).then(write)
    const settled = result.catch(() => {})
    writing.set(key, settled)
    void settled.then(() => {
      if (writing.get(key) === settled) writing.delete(key)
    })
    return result
  }
  const records: KeyValueStore = {
    async get<T>(key: string) {
      return state.records.get(key) as T | undefined
    },
    put: (key, value) => serialized(key, () => commit({ op: "record.put", key, value })),
    delete: (key) =>
      serialized(key, async () => {
        if (!state.records.has(key)) return false
        await commit({ op: "record.delete", key })
        return true
      }),
    swap: (key, expected, next) =>
      serialized(key, async () => {
        if (JSON.stringify(state.records.get(key)) !== JSON.stringify(expected)) return false
        await commit({ op: "record.put", key, value: next })
        return true
      }),
    async list<T>(prefix: string) {
      return [...state.records]
        .filter(([key]) => key.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) as [string, T][]
    },
  }
  return { sessions, projects, records }
}
