import type { McpConfig, McpStatus } from "../schema/app-info.ts"
import type { McpCallResult, McpPrompt, McpResourceInfo, McpServers, McpTool } from "./schema.ts"

/**
 * Runs MCP servers and talks to them. Every call names the servers with their config (the config lives with
 * the server, the processes with whoever runs them), so the machine's service needs no config of its own.
 * A server that is switched off (`enabled: false`) is never started. Lists leave out servers that are not
 * connected; their status says why.
 */
export interface McpService {
  /** Each server's status, connecting those not tried yet. */
  status(directory: string, servers: McpServers): Promise<Record<string, McpStatus>>
  tools(directory: string, servers: McpServers): Promise<McpTool[]>
  prompts(directory: string, servers: McpServers): Promise<McpPrompt[]>
  resources(directory: string, servers: McpServers): Promise<McpResourceInfo[]>
  /** A prompt's messages' text, one after another, with `args` filled in. */
  prompt(directory: string, name: string, config: McpConfig, prompt: string, args: Record<string, string>): Promise<string>
  /** Calls one tool; a server that is not connected is tried again first. */
  call(directory: string, name: string, config: McpConfig, tool: string, args: Record<string, unknown>): Promise<McpCallResult>
  /** (Re)connects the server now, whatever happened before; answers its new status. */
  connect(directory: string, name: string, config: McpConfig): Promise<McpStatus>
  /** Closes the server's connection (a local server's process ends). */
  disconnect(directory: string, name: string): Promise<void>
}
