import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { BadRequestError, NotFoundError, SessionBusyError } from "../error.ts"
import { Part } from "../schema/message.ts"
import { MessageEdits } from "../domain/message-edit.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const MessageParam = z.object({ sessionID: z.string().startsWith("ses"), messageID: z.string().startsWith("msg") })
const PartParam = MessageParam.extend({ partID: z.string().startsWith("prt") })

/** Editing a session's history: `DELETE /session/:id/message/:messageID` and `PATCH|DELETE …/part/:partID`. */
export function messageEditRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .delete(
      "/:sessionID/message/:messageID",
      describeInstanceRoute({
        operationId: "session.deleteMessage",
        summary: "Delete a message and its parts (refused while the session is busy)",
        description: "Publishes message.removed. A message that is not there is deleted all the same, as upstream.",
        responses: { 200: json("Deleted", z.boolean()), ...errors(NotFoundError, SessionBusyError) },
      }),
      validate("param", MessageParam),
      async (c) => {
        const { sessionID, messageID } = c.req.valid("param")
        await MessageEdits.removeMessage(ports, sessionID, messageID)
        return c.json(true)
      },
    )
    .patch(
      "/:sessionID/message/:messageID/part/:partID",
      describeInstanceRoute({
        operationId: "part.update",
        summary: "Replace a part of a message (its ids must be the route's)",
        description: "Publishes message.part.updated. A part id the message does not have yet adds the part, as upstream.",
        responses: { 200: json("The stored part", Part), ...errors(BadRequestError, NotFoundError) },
      }),
      validate("param", PartParam),
      validate("json", Part),
      async (c) => c.json(await MessageEdits.updatePart(ports, c.req.valid("param"), c.req.valid("json"))),
    )
    .delete(
      "/:sessionID/message/:messageID/part/:partID",
      describeInstanceRoute({
        operationId: "part.delete",
        summary: "Delete a part of a message",
        description: "Publishes message.part.removed, whether or not the part was there (as upstream).",
        responses: { 200: json("Deleted", z.boolean()), ...errors(NotFoundError) },
      }),
      validate("param", PartParam),
      async (c) => {
        const { sessionID, messageID, partID } = c.req.valid("param")
        await MessageEdits.removePart(ports, sessionID, messageID, partID)
        return c.json(true)
      },
    )
}
