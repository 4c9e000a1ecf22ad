import { Identifier } from "../id.ts"
import type { Ports } from "../ports.ts"
import type { EventProperties, EventType } from "../schema/event.ts"
import type { PermissionReply, PermissionRequest, QuestionAnswer, QuestionRequest } from "../schema/question.ts"
import type { QuestionInfo as QuestionInfoSchema } from "../schema/question.ts"
import type { z } from "zod"
type QuestionInfo = z.infer<typeof QuestionInfoSchema>
import { NotFoundError, PermissionRejectedError, QuestionRejectedError, RequestDisposedError, type NamedError } from "../error.ts"
import { Bus } from "./bus.ts"

/**
 * Questions and permission requests put to the user while a session works.
 *
 * A pending request is a record (`question/<id>`, `permission/<id>`) in the tenant's KeyValueStore, so any
 * instance (any Worker on the edge) lists and answers it. Whoever asked learns the answer from the session's
 * event stream (`ports.hub`), where the reply is published: this works across instances on both runtimes.
 */

interface Pending<T> {
  directory: string
  request: T
}

export interface AskOptions {
  /** The asker gives up: the request is withdrawn and the wait ends with RequestDisposedError. */
  signal?: AbortSignal
  timeoutMs?: number
  /** Called once the request is stored and `*.asked` published (tests use it to answer right away). */
  onAsked?(requestID: string): void
}

/**
 * Subscribes to the session's stream, then runs `start`, and resolves with what `settle` makes of the first
 * event it recognises; `settle` returns undefined for other events, or an Error to reject with.
 */
async function awaitReply<T>(
  ports: Ports,
  sessionID: string,
  requestID: string,
  key: string,
  start: () => Promise<void>,
  settle: (type: string, properties: any) => T | Error | undefined,
  options: AskOptions,
): Promise<T> {
  let finish!: (result: { value: T } | { error: Error }) => void
  const outcome = new Promise<{ value: T } | { error: Error }>((resolve) => (finish = resolve))
  const detach = await ports.hub.subscribe({ kind: "session", sessionID }, undefined, {
    open() {},
    event(_id, data) {
      let frame: any
      try {
        frame = JSON.parse(data)
      } catch {
        return
      }
      const event = frame?.payload ?? frame
      if (event?.properties?.requestID !== requestID) return
      const result = settle(event.type, event.properties)
      if (result instanceof Error) finish({ error: result })
      else if (result !== undefined) finish({ value: result })
    },
    close() {
      finish({ error: new RequestDisposedError({ message: `Request ${requestID} was disposed with its session`, requestID }) })
    },
  })
  const disposed = (why: string) => finish({ error: new RequestDisposedError({ message: `Request ${requestID} ${why}`, requestID }) })
  const onAbort = () => disposed("was withdrawn by its asker")
  options.signal?.addEventListener("abort", onAbort, { once: true })
  const timer = options.timeoutMs !== undefined ? setTimeout(() => disposed(`got no answer within ${options.timeoutMs} ms`), options.timeoutMs) : undefined
  try {
    if (options.signal?.aborted) onAbort()
    else {
      await start()
      options.onAsked?.(requestID)
    }
    const result = await outcome
    if ("error" in result) {
      // A wait that ended without an answer withdraws the request so nobody answers it later.
      if (result.error instanceof RequestDisposedError) await ports.records.delete(key).catch(() => false)
      throw result.error
    }
    return result.value
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener("abort", onAbort)
    detach()
  }
}

/** Removes a pending request's record; 404 when it is not (or no longer) pending. */
async function take<T>(ports: Ports, key: string, requestID: string, what: string): Promise<Pending<T>> {
  const pending = await ports.records.get<Pending<T>>(key)
  if (!pending || !(await ports.records.delete(key))) {
    throw new NotFoundError({ message: `No pending ${what} ${requestID}` })
  }
  return pending
}

async function listPending<T>(ports: Ports, prefix: string, directory: string | undefined): Promise<T[]> {
  const entries = await ports.records.list<Pending<T>>(prefix)
  return entries.filter(([, pending]) => directory === undefined || pending.directory === directory).map(([, pending]) => pending.request)
}

function withdrawn(requestID: string) {
  return new RequestDisposedError({ message: `Request ${requestID} was withdrawn: its instance was disposed`, requestID })
}

/**
 * Withdraws every pending request under `prefix` that `which` picks. A request
 * is announced only when this call removed its record, so a reply racing the disposal either wins or finds
 * nothing (404): never both.
 */
async function withdrawAll<T extends { id: string; sessionID: string }>(
  ports: Ports,
  prefix: string,
  which: (pending: Pending<T>) => boolean,
  announce: (directory: string, request: T) => Promise<void>,
): Promise<void> {
  for (const [key, pending] of await ports.records.list<Pending<T>>(prefix)) {
    if (!which(pending) || !(await ports.records.delete(key))) continue
    await announce(pending.directory, pending.request)
  }
}

const inDirectory =
  (directory: string | undefined) =>
  ({ directory: own }: Pending<unknown>) =>
    directory === undefined || own === directory
const ofSession =
  (sessionID: string) =>
  ({ request }: Pending<{ sessionID: string }>) =>
    request.sessionID === sessionID

async function publish<T extends EventType>(ports: Ports, directory: string, type: T, properties: EventProperties<T>) {
  await Bus.publish(ports, directory, type, properties)
}

export namespace Questions {
  const key = (requestID: string) => `question/${requestID}`

  /** Asks the user and resolves with one answer (the chosen labels) per question; rejects with QuestionRejectedError. */
  export function ask(
    ports: Ports,
    input: { directory: string; sessionID: string; questions: QuestionInfo[]; tool?: QuestionRequest["tool"] },
    options: AskOptions = {},
  ): Promise<QuestionAnswer[]> {
    const request: QuestionRequest = {
      id: Identifier.ascending("question", ports.clock.now()),
      sessionID: input.sessionID,
      questions: input.questions,
      ...(input.tool ? { tool: input.tool } : {}),
    }
    return awaitReply<QuestionAnswer[]>(
      ports,
      request.sessionID,
      request.id,
      key(request.id),
      async () => {
        await ports.records.put(key(request.id), { directory: input.directory, request } satisfies Pending<QuestionRequest>)
        await publish(ports, input.directory, "question.asked", request)
      },
      (type, properties): QuestionAnswer[] | NamedError | undefined => {
        if (type === "question.replied") return properties.answers as QuestionAnswer[]
        if (type === "question.rejected") {
          if (properties.disposed) return withdrawn(request.id)
          return new QuestionRejectedError({ message: "The user dismissed this question", requestID: request.id })
        }
        return undefined
      },
      options,
    )
  }

  /** Pending questions, oldest first; only `directory`'s when given. */
  export function list(ports: Ports, directory?: string): Promise<QuestionRequest[]> {
    return listPending<QuestionRequest>(ports, "question/", directory)
  }

  export async function get(ports: Ports, requestID: string): Promise<QuestionRequest> {
    const pending = await ports.records.get<Pending<QuestionRequest>>(key(requestID))
    if (!pending) throw new NotFoundError({ message: `No pending question ${requestID}` })
    return pending.request
  }

  export async function reply(ports: Ports, requestID: string, answers: QuestionAnswer[]): Promise<void> {
    const { directory, request } = await take<QuestionRequest>(ports, key(requestID), requestID, "question")
    await publish(ports, directory, "question.replied", { sessionID: request.sessionID, requestID, answers })
  }

  export async function reject(ports: Ports, requestID: string): Promise<void> {
    const { directory, request } = await take<QuestionRequest>(ports, key(requestID), requestID, "question")
    await publish(ports, directory, "question.rejected", { sessionID: request.sessionID, requestID })
  }

  /**
   * Withdraws the directory's pending questions (every directory's without one): `question.rejected` marked
   * `disposed`, so askers end with RequestDisposedError.
   */
  export function dispose(ports: Ports, directory?: string): Promise<void> {
    return withdraw(ports, inDirectory(directory))
  }

  /** Withdraws the session's pending questions: their asker (the session's turn) died without an answer. */
  export function abandon(ports: Ports, sessionID: string): Promise<void> {
    return withdraw(ports, ofSession(sessionID))
  }

  function withdraw(ports: Ports, which: (pending: Pending<QuestionRequest>) => boolean): Promise<void> {
    return withdrawAll<QuestionRequest>(ports, "question/", which, (directory, request) =>
      publish(ports, directory, "question.rejected", { sessionID: request.sessionID, requestID: request.id, disposed: true }),
    )
  }
}

export namespace Permissions {
  const key = (requestID: string) => `permission/${requestID}`

  /**
   * Asks for a permission and resolves with "once" or "always"; a "reject" reply rejects with
   * PermissionRejectedError (carrying the user's message, if any).
   */
  export function ask(
    ports: Ports,
    input: Omit<PermissionRequest, "id" | "metadata" | "always"> & {
      directory: string
      metadata?: Record<string, unknown>
      always?: string[]
    },
    options: AskOptions = {},
  ): Promise<Exclude<PermissionReply, "reject">> {
    const { directory, ...rest } = input
    const request: PermissionRequest = {
      ...rest,
      id: Identifier.ascending("permission", ports.clock.now()),
      metadata: input.metadata ?? {},
      always: input.always ?? [],
    }
    return awaitReply<Exclude<PermissionReply, "reject">>(
      ports,
      request.sessionID,
      request.id,
      key(request.id),
      async () => {
        await ports.records.put(key(request.id), { directory, request } satisfies Pending<PermissionRequest>)
        await publish(ports, directory, "permission.asked", request)
      },
      (type, properties): Exclude<PermissionReply, "reject"> | NamedError | undefined => {
        if (type !== "permission.replied") return undefined
        if (properties.disposed) return withdrawn(request.id)
        if (properties.reply === "reject") {
          return new PermissionRejectedError({
            message: properties.message ?? "The user rejected permission to use this specific tool call.",
            requestID: request.id,
          })
        }
        return properties.reply
      },
      options,
    )
  }

  export function list(ports: Ports, directory?: string): Promise<PermissionRequest[]> {
    return listPending<PermissionRequest>(ports, "permission/", directory)
  }

  /** Answers a pending request; `message` (the user's words with a rejection) travels to the asker in the event. */
  export async function reply(ports: Ports, requestID: string, reply: PermissionReply, message?: string): Promise<void> {
    const { directory, request } = await take<PermissionRequest>(ports, key(requestID), requestID, "permission request")
    const properties = { sessionID: request.sessionID, requestID, reply, ...(message !== undefined ? { message } : {}) }
    await publish(ports, directory, "permission.replied", properties)
  }

  /**
   * Withdraws the directory's pending requests (every directory's without one): `permission.replied` `reject`
   * marked `disposed`, so askers end with RequestDisposedError.
   */
  export function dispose(ports: Ports, directory?: string): Promise<void> {
    return withdraw(ports, inDirectory(directory))
  }

  /** Withdraws the session's pending requests: their asker (the session's turn) died without an answer. */
  export function abandon(ports: Ports, sessionID: string): Promise<void> {
    return withdraw(ports, ofSession(sessionID))
  }

  function withdraw(ports: Ports, which: (pending: Pending<PermissionRequest>) => boolean): Promise<void> {
    return withdrawAll<PermissionRequest>(ports, "permission/", which, (directory, request) =>
      publish(ports, directory, "permission.replied", { sessionID: request.sessionID, requestID: request.id, reply: "reject", disposed: true }),
    )
  }
}
