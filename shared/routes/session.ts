import { Hono, type Context } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { BadRequestError, ConflictError, NamedError, NotFoundError, PayloadTooLargeError, UnknownError } from "../error.ts"
import {
  Session,
  SessionCreateInput,
  SessionForkInput,
  SessionListQuery,
  SessionStatus,
  SessionUpdateInput,
} from "../schema/session.ts"
import { Event } from "../schema/event.ts"
import { MessageListQuery, MessageWithParts, PromptInput } from "../schema/message.ts"
import { Sharing } from "../domain/share.ts"
import { Sessions } from "../domain/session.ts"
import { Prompt } from "../domain/prompt.ts"
import { describeInstanceRoute, errors, json, sse, validate } from "../openapi.ts"
import { eventStream } from "./events.ts"
import { FrozenJson } from "../frozen-json.ts"

const SessionParam = z.object({ sessionID: z.string().startsWith("ses") })
const MessageParam = SessionParam.extend({ messageID: z.string().startsWith("msg") })

/** `c.json` for sessions: a stored session's text is made once (FrozenJson), not on every read. */
function sessionJson(c: Context, sessions: Session | Session[]) {
  return c.body(FrozenJson.stringify(sessions)!, 200, { "Content-Type": "application/json" })
}

export function sessionRoutes(ports: Ports) {
  const promptDescription = (operationId: string, summary: string) =>
    describeInstanceRoute({
      operationId,
      summary,
      description:
        "Stores the user message and its parts, then runs the assistant turn and answers with the assistant message. " +
        "With `noReply: true` only the user message is stored, and it is the answer.",
      responses: {
        200: json("The assistant message (or the user message with noReply)", MessageWithParts),
        ...errors(NotFoundError, ConflictError, PayloadTooLargeError),
      },
    })

  const app = new Hono<AppEnv>()
  // `/message` is upstream's name, `/prompt` the seed's; both run the same turn.
  for (const [path, operationId, summary] of [
    ["/:sessionID/message", "session.prompt", "Send a message and wait for the reply"],
    ["/:sessionID/prompt", "session.promptSync", "Send a message and wait for the reply (alias of session.prompt)"],
  ] as const) {
    app.post(
      path,
      promptDescription(operationId, summary),
      validate("param", SessionParam),
      validate("json", PromptInput),
      async (c) => {
        const input = c.req.valid("json")
        const accepted = await Prompt.accept(ports, c.req.valid("param").sessionID, input)
        if (input.noReply) return c.json(accepted.user)
        return replyAsJson(Prompt.reply(ports, accepted), ports)
      },
    )
  }
  return app
    .get(
      "/",
      describeInstanceRoute({
        operationId: "session.list",
        summary: "List the directory's sessions, newest first",
        responses: { 200: json("Sessions", z.array(Session)) },
      }),
      validate("query", SessionListQuery),
      async (c) => sessionJson(c, await Sessions.list(ports, c.var.directory, c.req.valid("query"))),
    )
    .post(
      "/",
      describeInstanceRoute({
        operationId: "session.create",
        summary: "Create a session",
        responses: { 200: json("The new session", Session), ...errors(NotFoundError, PayloadTooLargeError) },
      }),
      validate("json", SessionCreateInput),
      async (c) => {
        const session = await Sessions.create(ports, c.var.directory, c.req.valid("json"))
        Sharing.shareIfAuto(ports, session, new URL(c.req.url).origin)
        return sessionJson(c, session)
      },
    )
    .get(
      "/status",
      describeInstanceRoute({
        operationId: "session.status",
        summary: "Status of the directory's sessions that are not idle",
        responses: { 200: json("Statuses by session id", z.record(z.string(), SessionStatus)) },
      }),
      async (c) => c.json(await Sessions.statuses(ports, c.var.directory)),
    )
    .get(
      "/:sessionID",
      describeInstanceRoute({
        operationId: "session.get",
        summary: "Get a session",
        responses: { 200: json("The session", Session), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      async (c) => sessionJson(c, await Sessions.get(ports, c.req.valid("param").sessionID)),
    )
    .patch(
      "/:sessionID",
      describeInstanceRoute({
        operationId: "session.update",
        summary: "Change a session's title, metadata, permissions or archived time",
        responses: { 200: json("The updated session", Session), ...errors(NotFoundError, PayloadTooLargeError) },
      }),
      validate("param", SessionParam),
      validate("json", SessionUpdateInput),
      async (c) => sessionJson(c, await Sessions.update(ports, c.req.valid("param").sessionID, c.req.valid("json"))),
    )
    .delete(
      "/:sessionID",
      describeInstanceRoute({
        operationId: "session.delete",
        summary: "Delete a session, its children and all their messages",
        responses: { 200: json("Deleted", z.boolean()), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      async (c) => {
        await Sessions.remove(ports, c.req.valid("param").sessionID)
        return c.json(true)
      },
    )
    .get(
      "/:sessionID/children",
      describeInstanceRoute({
        operationId: "session.children",
        summary: "Sessions whose parent is this one",
        responses: { 200: json("Child sessions", z.array(Session)), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      async (c) => sessionJson(c, await Sessions.children(ports, c.req.valid("param").sessionID)),
    )
    .post(
      "/:sessionID/fork",
      describeInstanceRoute({
        operationId: "session.fork",
        summary: "Copy a session's messages before messageID (all without it) into a new session",
        responses: { 200: json("The new session", Session), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      validate("json", SessionForkInput),
      async (c) => sessionJson(c, await Sessions.fork(ports, c.req.valid("param").sessionID, c.req.valid("json").messageID)),
    )
    .post(
      "/:sessionID/abort",
      describeInstanceRoute({
        operationId: "session.abort",
        summary: "Stop the session's running turn",
        responses: { 200: json("Aborted", z.boolean()), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      async (c) => {
        await Prompt.abort(ports, c.req.valid("param").sessionID)
        return c.json(true)
      },
    )
    .get(
      "/:sessionID/message",
      describeInstanceRoute({
        operationId: "session.messages",
        summary: "A session's messages with their parts, oldest first",
        description: "With `limit`, the newest that many; when older ones remain, `x-next-cursor` (and `Link: rel=next`) gives the `before` that asks for them.",
        responses: { 200: json("Messages", z.array(MessageWithParts)), ...errors(NotFoundError, BadRequestError) },
      }),
      validate("param", SessionParam),
      validate("query", MessageListQuery),
      async (c) => {
        const query = c.req.valid("query")
        const { messages, next } = await Sessions.messages(ports, c.req.valid("param").sessionID, query)
        c.header("Access-Control-Expose-Headers", "Link, X-Next-Cursor")
        if (next !== undefined) {
          const url = new URL(c.req.url)
          url.searchParams.set("before", next)
          c.header("Link", `<${url.href}>; rel="next"`)
          c.header("x-next-cursor", next)
        }
        return c.json(messages)
      },
    )
    .post(
      "/:sessionID/prompt_async",
      describeInstanceRoute({
        operationId: "session.prompt_async",
        summary: "Send a message and return at once; the reply arrives as events",
        responses: { 204: { description: "Accepted" }, ...errors(NotFoundError, ConflictError, PayloadTooLargeError) },
      }),
      validate("param", SessionParam),
      validate("json", PromptInput),
      async (c) => {
        const input = c.req.valid("json")
        const accepted = await Prompt.accept(ports, c.req.valid("param").sessionID, input)
        if (!input.noReply) {
          ports.background(
            Prompt.reply(ports, accepted).catch((error) =>
              ports.log.error("prompt_async turn failed", { sessionID: accepted.session.id, error: String(error) }),
            ),
          )
        }
        return c.body(null, 204)
      },
    )
    .get(
      "/:sessionID/message/:messageID",
      describeInstanceRoute({
        operationId: "session.message",
        summary: "One message of a session with its parts",
        responses: { 200: json("Message", MessageWithParts), ...errors(NotFoundError) },
      }),
      validate("param", MessageParam),
      async (c) => {
        const { sessionID, messageID } = c.req.valid("param")
        return c.json(await Sessions.message(ports, sessionID, messageID))
      },
    )
    .get(
      "/:sessionID/event",
      describeInstanceRoute({
        operationId: "session.event",
        summary: "One session's events, as SSE",
        responses: { 200: sse("Event stream", Event), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      async (c) => {
        const { sessionID } = c.req.valid("param")
        await Sessions.get(ports, sessionID)
        return eventStream(ports, c, { kind: "session", sessionID })
      },
    )
}

/**
 * Answers 200 with JSON headers at once and writes the body when the turn ends, as upstream does, so
 * proxies do not time out a long turn. A failure after the headers are out is written as a NamedError body.
 */
function replyAsJson(reply: Promise<MessageWithParts>, ports: Ports): Response {
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        controller.enqueue(encoder.encode(JSON.stringify(await reply)))
      } catch (error) {
        ports.log.error("prompt turn failed", { error: String(error) })
        const named = error instanceof NamedError ? error : new UnknownError({ message: "The turn failed" })
        controller.enqueue(encoder.encode(JSON.stringify(named.toObject())))
      }
      controller.close()
    },
  })
  return new Response(body, { headers: { "Content-Type": "application/json" } })
}
