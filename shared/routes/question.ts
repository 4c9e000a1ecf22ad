import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { NotFoundError } from "../error.ts"
import {
  PermissionReplyInput,
  PermissionRequest,
  PermissionRespondInput,
  QuestionReplyInput,
  QuestionRequest,
} from "../schema/question.ts"
import { Permissions, Questions } from "../domain/questions.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const QuestionParam = z.object({ requestID: z.string().startsWith("que") })
const PermissionParam = z.object({ requestID: z.string().startsWith("per") })

/** `/question/*`: pending questions of the request's directory, and their answers. */
export function questionRoutes(ports: Ports) {
  const reply = (operationId: string, summary: string) =>
    describeInstanceRoute({
      operationId,
      summary,
      description: "Answers a pending question (one array of chosen labels per question); whoever asked gets the answers.",
      responses: { 200: json("Answered", z.boolean()), ...errors(NotFoundError) },
    })
  const app = new Hono<AppEnv>()
  // `/reply` is upstream's name, `/answer` the seed's; both answer the same way.
  for (const [path, operationId, summary] of [
    ["/:requestID/reply", "question.reply", "Answer a question"],
    ["/:requestID/answer", "question.answer", "Answer a question (alias of question.reply)"],
  ] as const) {
    app.post(path, reply(operationId, summary), validate("param", QuestionParam), validate("json", QuestionReplyInput), async (c) => {
      await Questions.reply(ports, c.req.valid("param").requestID, c.req.valid("json").answers)
      return c.json(true)
    })
  }
  return app
    .get(
      "/",
      describeInstanceRoute({
        operationId: "question.list",
        summary: "Pending questions of the directory, oldest first",
        responses: { 200: json("Pending questions", z.array(QuestionRequest)) },
      }),
      async (c) => c.json(await Questions.list(ports, c.var.directory)),
    )
    .get(
      "/:requestID",
      describeInstanceRoute({
        operationId: "question.get",
        summary: "A pending question",
        responses: { 200: json("The question", QuestionRequest), ...errors(NotFoundError) },
      }),
      validate("param", QuestionParam),
      async (c) => c.json(await Questions.get(ports, c.req.valid("param").requestID)),
    )
    .post(
      "/:requestID/reject",
      describeInstanceRoute({
        operationId: "question.reject",
        summary: "Dismiss a question",
        description: "Whoever asked stops waiting with QuestionRejectedError.",
        responses: { 200: json("Rejected", z.boolean()), ...errors(NotFoundError) },
      }),
      validate("param", QuestionParam),
      async (c) => {
        await Questions.reject(ports, c.req.valid("param").requestID)
        return c.json(true)
      },
    )
}

/** `/permission/*`: pending permission requests and their replies. */
export function permissionRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/",
      describeInstanceRoute({
        operationId: "permission.list",
        summary: "Pending permission requests of the directory, oldest first",
        responses: { 200: json("Pending permission requests", z.array(PermissionRequest)) },
      }),
      async (c) => c.json(await Permissions.list(ports, c.var.directory)),
    )
    .post(
      "/:requestID/reply",
      describeInstanceRoute({
        operationId: "permission.reply",
        summary: "Reply to a permission request",
        description: "`once` or `always` lets the asker go on; `reject` (with an optional message) stops it with PermissionRejectedError.",
        responses: { 200: json("Replied", z.boolean()), ...errors(NotFoundError) },
      }),
      validate("param", PermissionParam),
      validate("json", PermissionReplyInput),
      async (c) => {
        const { reply, message } = c.req.valid("json")
        await Permissions.reply(ports, c.req.valid("param").requestID, reply, message)
        return c.json(true)
      },
    )
}

/** The deprecated v1 `POST /session/:id/permissions/:permissionID`, mounted at the root. */
export function sessionPermissionRoutes(ports: Ports) {
  return new Hono<AppEnv>().post(
    "/session/:id/permissions/:permissionID",
    describeInstanceRoute({
      operationId: "permission.respond",
      summary: "Respond to a permission request (deprecated: use permission.reply)",
      deprecated: true,
      responses: { 200: json("Replied", z.boolean()), ...errors(NotFoundError) },
    }),
    validate("param", z.object({ id: z.string().startsWith("ses"), permissionID: z.string().startsWith("per") })),
    validate("json", PermissionRespondInput),
    async (c) => {
      const { id: sessionID, permissionID } = c.req.valid("param")
      const pending = (await Permissions.list(ports)).find((request) => request.id === permissionID)
      if (!pending || pending.sessionID !== sessionID) {
        throw new NotFoundError({ message: `No pending permission request ${permissionID} in session ${sessionID}` })
      }
      await Permissions.reply(ports, permissionID, c.req.valid("json").response)
      return c.json(true)
    },
  )
}
