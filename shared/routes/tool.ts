import { Hono } from "hono"
import { describeRoute } from "hono-openapi"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { BadRequestError, MachineUnavailableError, NotFoundError, PathOutsideDirectoryError } from "../error.ts"
import { requireMachine } from "../machine.ts"
import { machineRequired } from "../middleware/machine.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"
import { TOOL_IDS, TOOL_PARAMETERS, TOOLS, ToolInfo, ToolResult, isToolID } from "../tools.ts"

const ToolParams = z.object({ id: z.string().min(1).describe("Tool id (GET /tool lists them)") })
const ToolListQuery = z.object({
  provider: z.string().optional().describe("Provider the tools are for (accepted as upstream; the built-in set is the same)"),
  model: z.string().optional().describe("Model the tools are for (accepted as upstream; the built-in set is the same)"),
})

/** The arguments of any tool: an object, checked against the named tool's schema. */
const ToolArguments = z.record(z.string(), z.unknown()).describe("The tool's arguments, as its `parameters` JSON Schema describes")

/**
 * The built-in tools (shared/tools.ts): the seed's `GET /tool` and `POST /tool/:id/execute`, upstream's
 * `GET /experimental/tool/ids` and `GET /experimental/tool`. Listing is static and needs no machine;
 * executing runs on the machine, so on the edge without one it answers 503 MachineUnavailable.
 */
export function toolRoutes(ports: Ports) {
  const machine = machineRequired(ports)

  return new Hono<AppEnv>()
    .get(
      "/tool",
      describeRoute({
        operationId: "tool.list.all",
        summary: "The built-in tools with the JSON Schema of their arguments",
        responses: { 200: json("Tools", z.array(ToolInfo)), ...errors() },
      }),
      (c) => c.json(TOOLS),
    )
    .post(
      "/tool/:id/execute",
      describeInstanceRoute({
        operationId: "tool.execute",
        summary: "Run a built-in tool on the machine in the request's directory (paths confined as /file's)",
        responses: {
          200: json("The tool's result", ToolResult),
          ...errors(NotFoundError, PathOutsideDirectoryError, MachineUnavailableError),
        },
      }),
      machine,
      validate("param", ToolParams),
      async (c, next) => {
        const id = c.req.valid("param").id
        if (!isToolID(id)) throw new NotFoundError({ message: `Unknown tool: ${id}` })
        await next()
      },
      validate("json", ToolArguments),
      async (c) => {
        const id = c.req.valid("param").id
        if (!isToolID(id)) throw new NotFoundError({ message: `Unknown tool: ${id}` })
        const parsed = TOOL_PARAMETERS[id].safeParse(c.req.valid("json"))
        if (!parsed.success) {
          const issues = parsed.error.issues.map((issue) => ({
            path: issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment)),
            message: issue.message,
          }))
          const summary = issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")
          throw new BadRequestError({ message: `Invalid arguments for ${id}: ${summary}`, kind: "Body", issues })
        }
        return c.json(await requireMachine(ports).tools.execute(c.var.directory, id, parsed.data))
      },
    )
    .get(
      "/experimental/tool/ids",
      describeRoute({
        operationId: "tool.ids",
        summary: "The ids of the built-in tools",
        responses: { 200: json("Tool ids", z.array(z.string())), ...errors() },
      }),
      (c) => c.json(TOOL_IDS),
    )
    .get(
      "/experimental/tool",
      describeInstanceRoute({
        operationId: "tool.list",
        summary: "The tools for a provider and model, with the JSON Schema of their arguments",
        responses: { 200: json("Tools", z.array(ToolInfo)), ...errors() },
      }),
      validate("query", ToolListQuery),
      (c) => c.json(TOOLS),
    )
}
