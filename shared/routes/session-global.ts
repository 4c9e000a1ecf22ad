import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { GlobalSession, GlobalSessionListQuery } from "../schema/session.ts"
import { GlobalSessions } from "../domain/session-global.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

/** Sessions across projects (upstream's `GET /experimental/session`): what the app's command palette searches. */
export function globalSessionRoutes(ports: Ports) {
  return new Hono<AppEnv>().get(
    "/experimental/session",
    describeInstanceRoute({
      operationId: "experimental.session.list",
      summary: "Sessions across projects, most recently updated first; archived ones only when asked for",
      description: "When more sessions follow, the `x-next-cursor` header holds the `cursor` that asks for them.",
      responses: { 200: json("Sessions with their projects", z.array(GlobalSession)), ...errors() },
    }),
    validate("query", GlobalSessionListQuery),
    async (c) => {
      const { sessions, nextCursor } = await GlobalSessions.page(ports, c.var.directory, c.req.valid("query"))
      if (nextCursor !== undefined) c.header("x-next-cursor", String(nextCursor))
      return c.json(sessions)
    },
  )
}
