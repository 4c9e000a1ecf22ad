import { Hono } from "hono"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { Event } from "../schema/event.ts"
import { describeInstanceRoute, sse } from "../openapi.ts"
import { eventStream } from "./events.ts"

export function eventRoutes(ports: Ports) {
  return new Hono<AppEnv>().get(
    "/",
    describeInstanceRoute({
      operationId: "event.subscribe",
      summary: "The request directory's events, as SSE",
      description:
        "The first frame is `server.connected`, then events and a `server.heartbeat` at a fixed interval. Every frame has an `id:`; " +
        "reconnect with `Last-Event-ID` to receive what was missed, or a `server.connected` whose `resume` is `gap` when that is no longer held.",
      responses: { 200: sse("Event stream", Event) },
    }),
    (c) => eventStream(ports, c, { kind: "directory", directory: c.var.directory }),
  )
}
