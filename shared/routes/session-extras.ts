import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { NotFoundError } from "../error.ts"
import { SnapshotFileDiff, Todo } from "../schema/app-info.ts"
import { Session } from "../schema/session.ts"
import { Sessions } from "../domain/session.ts"
import { Todos } from "../domain/todo.ts"
import { SessionSummary } from "../domain/session-summary.ts"
import { Sharing, SharingDisabledError, SharingEdgeError, SharingNeedsPairingError } from "../domain/share.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const SessionParam = z.object({ sessionID: z.string().startsWith("ses") })
const DiffQuery = z.object({ messageID: z.string().startsWith("msg").optional() })

/** `/session/:sessionID/todo`, `/diff` and `/share`, mounted under `/session` beside the session routes. */
export function sessionExtraRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/:sessionID/todo",
      describeInstanceRoute({
        operationId: "session.todo",
        summary: "The session's todo list",
        responses: { 200: json("Todos", z.array(Todo)), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      async (c) => {
        const { sessionID } = c.req.valid("param")
        await Sessions.get(ports, sessionID)
        return c.json(await Todos.get(ports, sessionID))
      },
    )
    .get(
      "/:sessionID/diff",
      describeInstanceRoute({
        operationId: "session.diff",
        summary: "Files a prompt's turn changed (`messageID`: the user message), from the snapshots taken around its steps; without messageID, none (as upstream)",
        responses: { 200: json("File diffs", z.array(SnapshotFileDiff)), ...errors(NotFoundError) },
      }),
      validate("param", SessionParam),
      validate("query", DiffQuery),
      async (c) => c.json(await SessionSummary.diff(ports, c.req.valid("param").sessionID, c.req.valid("query").messageID)),
    )
    .post(
      "/:sessionID/share",
      describeInstanceRoute({
        operationId: "session.share",
        summary: "Share a session: a new read-only link (share.url) that needs no token; an earlier link dies",
        responses: { 200: json("The session with share.url", Session), ...errors(NotFoundError, SharingDisabledError, SharingNeedsPairingError, SharingEdgeError) },
      }),
      validate("param", SessionParam),
      async (c) => c.json(await Sharing.share(ports, c.req.valid("param").sessionID, new URL(c.req.url).origin)),
    )
    .delete(
      "/:sessionID/share",
      describeInstanceRoute({
        operationId: "session.unshare",
        summary: "Stop sharing a session: its link answers 404 from now on",
        responses: { 200: json("The session without share", Session), ...errors(NotFoundError, SharingEdgeError) },
      }),
      validate("param", SessionParam),
      async (c) => c.json(await Sharing.unshare(ports, c.req.valid("param").sessionID)),
    )
}
