import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { MachineUnavailableError, NotFoundError, SessionBusyError } from "../error.ts"
import { Session } from "../schema/session.ts"
import { SessionRevert } from "../domain/revert.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const SessionParam = z.object({ sessionID: z.string().startsWith("ses") })
const RevertBody = z.object({ messageID: z.string().startsWith("msg"), partID: z.string().startsWith("prt").optional() })

/** `/session/:sessionID/revert` and `/unrevert` (the TUI's /undo and /redo), mounted under `/session`. */
export function sessionRevertRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .post(
      "/:sessionID/revert",
      describeInstanceRoute({
        operationId: "session.revert",
        summary: "Undo a message and what follows it: the files its steps changed are put back, the session is marked reverted",
        responses: { 200: json("The reverted session", Session), ...errors(NotFoundError, SessionBusyError, MachineUnavailableError) },
      }),
      validate("param", SessionParam),
      validate("json", RevertBody),
      async (c) => c.json(await SessionRevert.revert(ports, c.req.valid("param").sessionID, c.req.valid("json"))),
    )
    .post(
      "/:sessionID/unrevert",
      describeInstanceRoute({
        operationId: "session.unrevert",
        summary: "Redo what the last revert undid: its files come back and the session is no longer reverted",
        responses: { 200: json("The session", Session), ...errors(NotFoundError, SessionBusyError, MachineUnavailableError) },
      }),
      validate("param", SessionParam),
      async (c) => c.json(await SessionRevert.unrevert(ports, c.req.valid("param").sessionID)),
    )
}
