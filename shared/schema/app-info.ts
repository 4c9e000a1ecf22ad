import { z } from "zod"
import { PermissionRule } from "./session.ts"

/** Shapes of the agent, command, formatter, MCP, log, todo and diff routes, as the SDK's v2 types. */

export const Agent = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    mode: z.enum(["subagent", "primary", "all"]),
    /** Built into the server (v2's name). */
    native: z.boolean().optional(),
    /** The same, under v1's name, for v1 clients. */
    builtIn: z.boolean(),
    hidden: z.boolean().optional(),
    topP: z.number().optional(),
    temperature: z.number().optional(),
    color: z.string().optional(),
    permission: z.array(PermissionRule),
    model: z.object({ modelID: z.string(), providerID: z.string() }).optional(),
    variant: z.string().optional(),
    prompt: z.string().optional(),
    options: z.record(z.string(), z.unknown()),
    steps: z.number().optional(),
    /** Tools switched on or off for this agent (upstream's v1 `tools` map; `*` wildcards allowed). */
    tools: z.record(z.string(), z.boolean()).optional(),
  })
  .meta({ ref: "Agent" })
export type Agent = z.infer<typeof Agent>

/** The `/api/agent` shape (v2 SDK `AgentV2Info`): the same agent, with upstream's v2 names for its parts. */
export const AgentV2Info = z
  .object({
    id: z.string(),
    model: z.object({ id: z.string(), providerID: z.string(), variant: z.string().optional() }).optional(),
    request: z
      .object({ headers: z.record(z.string(), z.string()), body: z.record(z.string(), z.unknown()) })
      .describe("Extra headers and body fields sent with the agent's model requests"),
    system: z.string().optional(),
    description: z.string().optional(),
    mode: z.enum(["subagent", "primary", "all"]),
    hidden: z.boolean(),
    color: z.string().optional(),
    steps: z.number().int().positive().optional(),
    permissions: z
      .array(z.object({ action: z.string(), resource: z.string(), effect: z.enum(["allow", "deny", "ask"]) }))
      .describe("Later rules win"),
  })
  .meta({ ref: "AgentV2Info" })
export type AgentV2Info = z.infer<typeof AgentV2Info>

export const Command = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    agent: z.string().optional(),
    model: z.string().optional(),
    source: z.enum(["command", "mcp", "skill"]).optional(),
    template: z.string(),
    subtask: z.boolean().optional(),
    hints: z.array(z.string()),
  })
  .meta({ ref: "Command" })
export type Command = z.infer<typeof Command>

/** The `/api/command` shape (v2 SDK `CommandV2Info`). */
export const CommandV2Info = z
  .object({
    name: z.string(),
    template: z.string(),
    description: z.string().optional(),
    agent: z.string().optional(),
    model: z.object({ id: z.string(), providerID: z.string(), variant: z.string().optional() }).optional(),
    subtask: z.boolean().optional(),
  })
  .meta({ ref: "CommandV2Info" })
export type CommandV2Info = z.infer<typeof CommandV2Info>

export const FormatterStatus = z
  .object({ name: z.string(), extensions: z.array(z.string()), enabled: z.boolean() })
  .meta({ ref: "FormatterStatus" })

export const McpStatus = z
  .discriminatedUnion("status", [
    z.object({ status: z.literal("connected") }),
    z.object({ status: z.literal("disabled") }),
    z.object({ status: z.literal("failed"), error: z.string() }),
    z.object({ status: z.literal("needs_auth") }),
    z.object({ status: z.literal("needs_client_registration"), error: z.string() }),
  ])
  .meta({ ref: "MCPStatus" })
export type McpStatus = z.infer<typeof McpStatus>

const StringMap = z.record(z.string(), z.string())

export const McpLocalConfig = z
  .object({
    type: z.literal("local"),
    command: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    environment: StringMap.optional(),
    enabled: z.boolean().optional(),
    timeout: z.number().int().positive().optional(),
  })
  .strict()
  .meta({ ref: "McpLocalConfig" })

export const McpOAuthConfig = z
  .object({
    clientId: z.string().optional(),
    clientSecret: z.string().optional(),
    scope: z.string().optional(),
    callbackPort: z.number().int().optional(),
    redirectUri: z.string().optional(),
  })
  .strict()
  .meta({ ref: "McpOAuthConfig" })

export const McpRemoteConfig = z
  .object({
    type: z.literal("remote"),
    url: z.url(),
    enabled: z.boolean().optional(),
    headers: StringMap.optional(),
    oauth: z.union([McpOAuthConfig, z.literal(false)]).optional(),
    timeout: z.number().int().positive().optional(),
  })
  .strict()
  .meta({ ref: "McpRemoteConfig" })

export const McpConfig = z.discriminatedUnion("type", [McpLocalConfig, McpRemoteConfig])
export type McpConfig = z.infer<typeof McpConfig>

export const McpAddInput = z.object({
  name: z.string().min(1).max(200).regex(/^[^/]+$/, "must not contain a slash"),
  config: McpConfig,
})
export const McpStatusMap = z.record(z.string(), McpStatus)

export const LogInput = z.object({
  service: z.string(),
  level: z.enum(["debug", "info", "error", "warn"]),
  message: z.string(),
  extra: z.record(z.string(), z.unknown()).optional(),
})

export const Todo = z
  .object({ content: z.string(), status: z.string(), priority: z.string() })
  .meta({ ref: "Todo" })
export type Todo = z.infer<typeof Todo>

export { FileDiff as SnapshotFileDiff } from "./session.ts"
