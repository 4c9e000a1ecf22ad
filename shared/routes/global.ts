import { Hono } from "hono"
import { describeRoute } from "hono-openapi"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { GlobalEvent } from "../schema/event.ts"
import { Permissions, Questions } from "../domain/questions.ts"
import { Bus } from "../domain/bus.ts"
import { json, sse } from "../openapi.ts"
import { eventStream } from "./events.ts"

export function globalRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/health",
      describeRoute({
        operationId: "global.health",
        summary: "Server health and version",
        responses: { 200: json("Server is healthy", z.object({ healthy: z.literal(true), version: z.string() })) },
      }),
      (c) => c.json({ healthy: true as const, version: ports.config.version }),
    )
    .get(
      "/event",
      describeRoute({
        operationId: "global.event",
        summary: "Events of every directory, as SSE",
        responses: { 200: sse("Event stream", GlobalEvent) },
      }),
      (c) => eventStream(ports, c, { kind: "global" }, (payload) => `{"payload":${payload}}`),
    )
    .post(
      "/dispose",
      describeRoute({
        operationId: "global.dispose",
        summary: "Dispose every instance and tell subscribers",
        description: "Withdraws every pending question and permission request (askers end with RequestDisposedError), then publishes global.disposed.",
        responses: { 200: json("Disposed", z.boolean()) },
      }),
      async (c) => {
        await Questions.dispose(ports)
        await Permissions.dispose(ports)
        await Bus.publish(ports, "global", "global.disposed", {})
        return c.json(true)
      },
    )
}
