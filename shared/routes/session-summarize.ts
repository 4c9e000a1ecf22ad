import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { BadRequestError, NotFoundError } from "../error.ts"
import { summarizeSession } from "../domain/summarize.ts"
import { SummarizeInput } from "../schema/summarize.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const SessionParam = z.object({ sessionID: z.string().startsWith("ses") })

/** `/session/:id/summarize`: compaction on request. */
export function sessionSummarizeRoutes(ports: Ports) {
  return new Hono<AppEnv>().post(
    "/:sessionID/summarize",
    describeInstanceRoute({
      operationId: "session.summarize",
      summary: "Summarize the session: later turns start from the summary instead of the whole history",
      description:
        "Stores a user message with a compaction part, then the compaction agent writes the summary (an assistant message " +
        "with summary: true, no tools) and session.compacted is published. With auto, the turn goes on with a synthetic " +
        "'Continue…' prompt. Answers when the session's loop is done.",
      responses: { 200: json("Summarized", z.boolean()), ...errors(BadRequestError, NotFoundError) },
    }),
    validate("param", SessionParam),
    validate("json", SummarizeInput),
    async (c) => {
      await summarizeSession(ports, c.req.valid("param").sessionID, c.req.valid("json"))
      return c.json(true)
    },
  )
}
