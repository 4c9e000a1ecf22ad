import { Hono } from "hono"
import { describeRoute } from "hono-openapi"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import {
  BadRequestError,
  MachineUnavailableError,
  NotFoundError,
  PathOutsideDirectoryError,
  PermissionRejectedError,
  QuestionRejectedError,
  RequestDisposedError,
} from "../error.ts"
import { machineRequired } from "../middleware/machine.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"
import { Tools } from "../domain/tool.ts"
import { PermissionDeniedError } from "../domain/tool-permission.ts"
import { WebFetchError, WebFetchTimeoutError } from "../domain/webfetch.ts"
import { TOOL_IDS, TOOLS, ToolInfo, ToolResult, isMachineToolID, isToolID } from "../tools.ts"
import { CONFIG_FILE_ERRORS } from "../config/errors.ts"

const ToolParams = z.object({ id: z.string().min(1).describe("Tool id (GET /tool lists them)") })
const ToolContextQuery = z.object({
  sessionID: z
    .string()
    .startsWith("ses")
    .optional()
    .describe(
      "The session the call runs for, in the session's directory: question, todowrite and todoread need one, and it puts the call under the agent's and session's permission rules",
    ),
  agent: z.string().optional().describe("The agent the call runs as (default: the config's default_agent, else build)"),
  messageID: z.string().optional().describe("The message that made the call (with callID, shown on a question)"),
  callID: z.string().optional().describe("The tool call's id (with messageID)"),
})
const ToolListQuery = z.object({
  provider: z.string().optional().describe("Provider the tools are for (accepted as upstream; the built-in set is the same)"),
  model: z.string().optional().describe("Model the tools are for (accepted as upstream; the built-in set is the same)"),
})

/** The arguments of any tool: an object, checked against the named tool's schema. */
const ToolArguments = z.record(z.string(), z.unknown()).describe("The tool's arguments, as its `parameters` JSON Schema describes")

/**
 * The built-in tools (shared/tools.ts): the seed's `GET /tool` and `POST /tool/:id/execute`, upstream's
 * `GET /experimental/tool/ids` and `GET /experimental/tool`. Listing is static and needs no machine;
 * a machine tool runs on the machine (503 MachineUnavailable on the edge without one), a server tool here.
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
        summary: "Run a built-in tool in the request's directory",
        description:
          "Machine tools (read, list, glob, grep, write, edit, bash) run on the machine with paths confined as /file's; " +
          "given a session, the agent's and the session's permission rules apply first (`ask` waits for the user's reply). Server tools run " +
          "in the server: question, todowrite and todoread need `sessionID` (`question` answers once the user replies, POST /question/:id/reply); " +
          "webfetch needs none and answers 502 WebFetchError (a non-2xx status, a binary type, no answer) or 504 WebFetchTimeoutError.",
        responses: {
          200: json("The tool's result", ToolResult),
          ...errors(
            BadRequestError,
            PermissionDeniedError,
            PathOutsideDirectoryError,
            NotFoundError,
            PermissionRejectedError,
            QuestionRejectedError,
            RequestDisposedError,
            MachineUnavailableError,
            // a call for a session reads the config for its permission rules
            ...CONFIG_FILE_ERRORS,
            WebFetchError,
            WebFetchTimeoutError,
          ),
        },
      }),
      validate("param", ToolParams),
      async (c, next) => {
        const id = c.req.valid("param").id
        if (!isToolID(id)) throw new NotFoundError({ message: `Unknown tool: ${id}` })
        // A machine tool answers 503 before anything else when there is no machine, as every machine route does.
        return isMachineToolID(id) ? machine(c, next) : next()
      },
      validate("query", ToolContextQuery),
      validate("json", ToolArguments),
      async (c) => {
        const id = c.req.valid("param").id
        if (!isToolID(id)) throw new NotFoundError({ message: `Unknown tool: ${id}` })
        const context = { directory: c.var.directory, ...c.req.valid("query"), signal: c.req.raw.signal }
        return c.json(await Tools.execute(ports, context, id, c.req.valid("json")))
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
