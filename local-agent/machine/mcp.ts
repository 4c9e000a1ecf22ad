import { stat } from "node:fs/promises"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { Logger } from "../../shared/ports.ts"
import type { MachinePublish } from "../../shared/machine.ts"
import type { McpConfig } from "../../shared/schema/app-info.ts"
import { connectMcpClient } from "../../shared/mcp/client.ts"
import { McpPool, type McpConnector } from "../../shared/mcp/pool.ts"
import { remoteConnector } from "../../shared/mcp/remote.ts"
import { McpOAuth, type McpCredentials } from "../../shared/mcp/oauth.ts"

/** How much of a local server's stderr is kept to explain why it failed. */
const STDERR_TAIL_CHARS = 2_000

/**
 * A local server: its command started in the directory (or its `cwd`), over stdio, with the agent's environment
 * plus the config's `environment`, as upstream starts one. When it fails to start, the end of what it printed
 * on stderr is the reason.
 */
const stdioConnector: McpConnector = async (_name, config: McpConfig, directory, timeoutMs): Promise<Client> => {
  if (config.type !== "local") throw new Error("Not a local MCP server")
  const [command, ...args] = config.command
  const cwd = config.cwd ?? directory
  // spawn names the command when the folder is missing: say which is.
  if (!(await stat(cwd).then((info) => info.isDirectory(), () => false))) throw new Error(`The MCP server's folder ${cwd} does not exist`)
  const environment = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined))
  const transport = new StdioClientTransport({
    command: command!,
    args,
    cwd,
    env: { ...environment, ...config.environment },
    stderr: "pipe",
  })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS)
  })
  try {
    return await connectMcpClient(transport, timeoutMs)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(stderr.trim() ? `${reason}: ${stderr.trim()}` : reason)
  }
}

/**
 * The machine's MCP servers: local ones as processes here, remote ones over HTTP from here (authorized with the
 * OAuth tokens kept in `credentials`); kept connected.
 */
export function createMcpService(publish: MachinePublish, log: Logger | undefined, credentials: McpCredentials | undefined): McpPool {
  const remote = remoteConnector(globalThis.fetch, async (name, config) => (credentials ? McpOAuth.connectionProvider(credentials, name, config) : undefined))
  const quiet: Logger = { info() {}, warn() {}, error() {} }
  const toolsChanged = (directory: string, server: string) => void publish(directory, "mcp.tools.changed", { server }).catch(() => {})
  return new McpPool((config) => (config.type === "local" ? stdioConnector : remote), log ?? quiet, true, toolsChanged)
}
