import { z } from "zod"
import { McpConfig, McpStatus } from "../schema/app-info.ts"

/** The servers an MCP request is about, by name, with the config each runs with. */
export const McpServers = z.record(z.string(), McpConfig)
export type McpServers = z.infer<typeof McpServers>

/** One tool of a connected server, as the server lists it. */
export const McpTool = z.object({
  server: z.string(),
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
})
export type McpTool = z.infer<typeof McpTool>

export const McpPrompt = z.object({
  server: z.string(),
  name: z.string(),
  description: z.string().optional(),
  arguments: z.array(z.object({ name: z.string(), description: z.string().optional(), required: z.boolean().optional() })).optional(),
})
export type McpPrompt = z.infer<typeof McpPrompt>

export const McpResourceInfo = z
  .object({ name: z.string(), uri: z.string(), description: z.string().optional(), mimeType: z.string().optional(), client: z.string() })
  .meta({ ref: "McpResource" })
export type McpResourceInfo = z.infer<typeof McpResourceInfo>

/** A tool's answer as the MCP server sent it (content items are kept whole: the tool part shows them). */
export const McpCallResult = z.object({
  content: z.array(z.looseObject({ type: z.string() })),
  isError: z.boolean().optional(),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  _meta: z.record(z.string(), z.unknown()).optional(),
})
export type McpCallResult = z.infer<typeof McpCallResult>

export const McpStatuses = z.record(z.string(), McpStatus)

/** Bodies of the machine's MCP routes (local-agent/machine-routes.ts), which the edge calls through the tunnel. */
export const McpMachineInput = {
  servers: z.object({ servers: McpServers }),
  server: z.object({ name: z.string().min(1), config: McpConfig }),
  disconnect: z.object({ name: z.string().min(1) }),
  prompt: z.object({ name: z.string().min(1), config: McpConfig, prompt: z.string().min(1), args: z.record(z.string(), z.string()) }),
  call: z.object({ name: z.string().min(1), config: McpConfig, tool: z.string().min(1), args: z.record(z.string(), z.unknown()) }),
}

export const MCP_MACHINE_PATH = "/machine/mcp"

/** A server's or tool's name as upstream puts it in tool and command names: anything but letters, digits, `_` and `-` becomes `_`. */
export function cleanMcpName(text: string): string {
  return text.replace(/[^a-zA-Z0-9_-]/g, "_")
}
