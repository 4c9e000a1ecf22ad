import { Hono } from "hono"
import { describeRoute } from "hono-openapi"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { GlobalEvent } from "../schema/event.ts"
import { Permissions, Questions } from "../domain/questions.ts"
import { Bus } from "../domain/bus.ts"
import { errors, json, sse, validate } from "../openapi.ts"
import { Config } from "../schema/config.ts"
import { Configs } from "../domain/config.ts"
import { CONFIG_FILE_ERRORS } from "../config/errors.ts"
import { ConflictError, PayloadTooLargeError } from "../error.ts"
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
    // The config outside any project: the server's default directory's (its files, then the stored layer).
    .get(
      "/config",
      describeRoute({
        operationId: "global.config.get",
        summary: "The config of the server's default directory",
        responses: { 200: json("The config", Config), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Configs.get(ports, ports.config.defaultDirectory)),
    )
    .patch(
      "/config",
      describeRoute({
        operationId: "global.config.update",
        summary: "Merge into the stored config layer, as PATCH /config does",
        responses: { 200: json("The config", Config), ...errors(PayloadTooLargeError, ConflictError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("json", Config),
      async (c) => c.json(await Configs.update(ports, ports.config.defaultDirectory, c.req.valid("json"))),
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
