import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { NotFoundError, PayloadTooLargeError } from "../error.ts"
import { McpAddInput, McpStatusMap } from "../schema/app-info.ts"
import { Mcp } from "../domain/mcp.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"
import { CONFIG_FILE_ERRORS } from "../config/errors.ts"

const NameParam = z.object({ name: z.string().min(1) })

const TRUTH =
  "Nothing runs MCP servers yet: a registered server reports `disabled` when switched off, otherwise " +
  "`failed` with the reason; never `connected`."

/** `/mcp`: the registry of MCP servers and their (truthful) status. */
export function mcpRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/",
      describeInstanceRoute({
        operationId: "mcp.status",
        summary: "Status of every MCP server, by name",
        description: TRUTH,
        responses: { 200: json("Statuses by server name", McpStatusMap), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Mcp.statuses(ports, c.var.directory)),
    )
    .post(
      "/",
      describeInstanceRoute({
        operationId: "mcp.add",
        summary: "Register (or replace) an MCP server; answers every server's status",
        description: TRUTH,
        responses: { 200: json("Statuses by server name", McpStatusMap), ...errors(PayloadTooLargeError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("json", McpAddInput),
      async (c) => {
        const { name, config } = c.req.valid("json")
        return c.json(await Mcp.add(ports, c.var.directory, name, config))
      },
    )
    .post(
      "/:name/connect",
      describeInstanceRoute({
        operationId: "mcp.connect",
        summary: "Switch an MCP server on (it still reports failed: nothing runs MCP servers yet)",
        responses: { 200: json("Done", z.boolean()), ...errors(NotFoundError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("param", NameParam),
      async (c) => {
        await Mcp.setEnabled(ports, c.var.directory, c.req.valid("param").name, true)
        return c.json(true)
      },
    )
    .post(
      "/:name/disconnect",
      describeInstanceRoute({
        operationId: "mcp.disconnect",
        summary: "Switch an MCP server off (it then reports disabled)",
        responses: { 200: json("Done", z.boolean()), ...errors(NotFoundError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("param", NameParam),
      async (c) => {
        await Mcp.setEnabled(ports, c.var.directory, c.req.valid("param").name, false)
        return c.json(true)
      },
    )
}
