import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { NotFoundError } from "../error.ts"
import { MessageWithParts } from "../schema/message.ts"
import { Sessions } from "../domain/session.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

export function messageRoutes(ports: Ports) {
  return new Hono<AppEnv>().get(
    "/:messageID",
    describeInstanceRoute({
      operationId: "message.get",
      summary: "A message with its parts, addressed by its id alone",
      responses: { 200: json("Message", MessageWithParts), ...errors(NotFoundError) },
    }),
    validate("param", z.object({ messageID: z.string().startsWith("msg") })),
    async (c) => c.json(await Sessions.messageByID(ports, c.req.valid("param").messageID)),
  )
}
