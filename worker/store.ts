import type { KeyValueStore, ProjectStore, SessionStore, TuiControlQueue } from "../shared/ports.ts"
import type { TuiRequest } from "../shared/schema/tui.ts"
import { TooManyRequestsError, TuiControlTimeoutError } from "../shared/error.ts"
import type { Objects } from "./objects.ts"

/** The session store over Durable Objects: records in each session's object, the index in its directory's. */
export function durableSessionStore(objects: Objects): SessionStore {
  return {
    get: async (sessionID) => (await objects.session(sessionID).getSession()) ?? undefined,
    list: (directory, filter) => objects.directory(directory).listSessions(filter),
    directories: () => objects.global().listSessionDirectories(),
    async put(session) {
      // The record and the index live in different objects and do not depend on each other: one round trip, not two.
      const [, first] = await Promise.all([
        objects.session(session.id).putSession(session),
        objects.directory(session.directory).indexSession(session),
      ])
      if (first) await objects.global().registerSessionDirectory(session.directory)
    },
    async remove(session) {
      const messageIDs = await objects.session(session.id).remove()
      await objects.directory(session.directory).unindexSession(session.id)
      await objects.global().forgetMessages(messageIDs)
    },
    messages: (sessionID, query) => objects.session(sessionID).messages(query),
    message: async (sessionID, messageID) => (await objects.session(sessionID).message(messageID)) ?? undefined,
    locateMessage: async (messageID) => (await objects.global().locateMessage(messageID)) ?? undefined,
    async putMessage(message, parts) {
      const isNew = await objects.session(message.sessionID).putMessage(message, parts)
      if (isNew) await objects.global().indexMessage(message.id, message.sessionID)
    },
    async removeMessage(sessionID, messageID) {
      if (await objects.session(sessionID).removeMessage(messageID)) await objects.global().forgetMessages([messageID])
    },
    removePart: (sessionID, messageID, partID) => objects.session(sessionID).removePart(messageID, partID),
    status: (directory) => objects.directory(directory).statuses(),
    setStatus: (directory, sessionID, status) => objects.directory(directory).setStatus(sessionID, status),
  }
}

/** Projects: the record in its worktree directory's object, a copy in the tenant's registry for listing. */
export function durableProjectStore(objects: Objects): ProjectStore {
  return {
    get: async (worktree) => (await objects.directory(worktree).getProject()) ?? undefined,
    async put(project) {
      await objects.directory(project.worktree).putProject(project)
      await objects.global().registerProject(project)
    },
    list: () => objects.global().listProjects(),
    find: async (projectID) => (await objects.global().findProject(projectID)) ?? undefined,
  }
}

/** A tenant's named records, in its GlobalObject. */
export function durableRecordStore(objects: Objects): KeyValueStore {
  return {
    get: async <T>(key: string) => (await objects.global().getRecord(key)) as T | undefined,
    put: (key, value) => objects.global().putRecord(key, value),
    delete: (key) => objects.global().deleteRecord(key),
    swap: (key, expected, next) => objects.global().swapRecord(key, expected, next),
    list: async <T>(prefix: string) => (await objects.global().listRecords(prefix)) as [string, T][],
  }
}

/** The tenant's TUI control queue, held by its GlobalObject so that every Worker instance reaches the same one. */
export function durableTuiControl(objects: Objects): TuiControlQueue {
  return {
    async call(request, timeoutMs) {
      const result = (await objects.global().tuiCall(request, timeoutMs)) as { body: unknown } | { timeout: string } | { busy: string }
      if ("timeout" in result) throw new TuiControlTimeoutError({ message: result.timeout })
      if ("busy" in result) throw new TooManyRequestsError({ message: result.busy })
      return result.body
    },
    next: async (timeoutMs) => ((await objects.global().tuiNext(timeoutMs)) as TuiRequest | undefined) ?? undefined,
    respond: (body) => objects.global().tuiRespond(body),
  }
}
