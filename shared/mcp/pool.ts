import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { CallToolResultSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import type { Logger } from "../ports.ts"
import type { McpConfig, McpStatus } from "../schema/app-info.ts"
import { McpCallResult, type McpPrompt, type McpResourceInfo, type McpServers, type McpTool } from "./schema.ts"
import type { McpService } from "./service.ts"

/** Connecting (or listing) gives up after this long unless the server's config says otherwise. */
export const MCP_DEFAULT_TIMEOUT_MS = 30_000
/** A server that ends on its own is started again at most this many times per window. */
const RESTARTS = 3
const RESTART_WINDOW_MS = 60_000

/** The server answered 401: it wants OAuth (status `needs_auth`). */
export class McpNeedsAuth extends Error {}

/** Opens a connected client for a server, or throws why it could not (McpNeedsAuth for a 401). */
export type McpConnector = (name: string, config: McpConfig, directory: string, timeoutMs: number) => Promise<Client>

interface Connection {
  config: string
  status: McpStatus
  client?: Client
  /** The connection attempt under way; callers wait for it. */
  opening?: Promise<void>
  /** We closed it: its end is no crash. */
  closing: boolean
  restarts: number[]
}

const timeoutOf = (config: McpConfig) => config.timeout ?? MCP_DEFAULT_TIMEOUT_MS

function failure(error: unknown): McpStatus {
  if (error instanceof McpNeedsAuth) return { status: "needs_auth" }
  return { status: "failed", error: error instanceof Error ? error.message : String(error) }
}

/**
 * MCP servers behind one connector. `keep: true` (the machine) keeps each server connected between calls,
 * per directory, and starts a server that ended on its own again (within limits); `keep: false` (the edge,
 * where a request's connections cannot outlive it) connects for each call and closes after it.
 */
export class McpPool implements McpService {
  private readonly connections = new Map<string, Connection>()

  constructor(
    private readonly connector: (config: McpConfig) => McpConnector,
    private readonly log: Logger,
    private readonly keep: boolean,
    /** A kept server said its tools changed (upstream's `mcp.tools.changed`). */
    private readonly toolsChanged: (directory: string, server: string) => void = () => {},
  ) {}

  async status(directory: string, servers: McpServers): Promise<Record<string, McpStatus>> {
    const entries = await Promise.all(
      Object.entries(servers).map(async ([name, config]): Promise<[string, McpStatus]> => {
        if (config.enabled === false) return [name, { status: "disabled" }]
        if (!this.keep) return [name, await this.use(directory, name, config, async () => ({ status: "connected" }) as McpStatus).catch(failure)]
        return [name, (await this.ensure(directory, name, config)).status]
      }),
    )
    return Object.fromEntries(entries)
  }

  tools(directory: string, servers: McpServers): Promise<McpTool[]> {
    return this.each(directory, servers, async (server, client) => {
      const listed = await client.listTools()
      return listed.tools.map((tool) => ({
        server,
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        inputSchema: tool.inputSchema as Record<string, unknown>,
      }))
    })
  }

  prompts(directory: string, servers: McpServers): Promise<McpPrompt[]> {
    return this.each(directory, servers, async (server, client) => {
      if (!client.getServerCapabilities()?.prompts) return []
      return (await client.listPrompts()).prompts.map((prompt) => ({ server, ...prompt }) as McpPrompt)
    })
  }

  resources(directory: string, servers: McpServers): Promise<McpResourceInfo[]> {
    return this.each(directory, servers, async (server, client) => {
      if (!client.getServerCapabilities()?.resources) return []
      return (await client.listResources()).resources.map((resource) => ({
        name: resource.name,
        uri: resource.uri,
        ...(resource.description !== undefined ? { description: resource.description } : {}),
        ...(resource.mimeType !== undefined ? { mimeType: resource.mimeType } : {}),
        client: server,
      }))
    })
  }

  prompt(directory: string, name: string, config: McpConfig, prompt: string, args: Record<string, string>): Promise<string> {
    return this.use(directory, name, config, async (client) => {
      const { messages } = await client.getPrompt({ name: prompt, arguments: args })
      return messages.map((message) => (message.content.type === "text" ? message.content.text : "")).join("\n")
    })
  }

  call(directory: string, name: string, config: McpConfig, tool: string, args: Record<string, unknown>): Promise<McpCallResult> {
    return this.use(directory, name, config, async (client) => {
      const options = config.timeout !== undefined ? { timeout: config.timeout, resetTimeoutOnProgress: true } : { resetTimeoutOnProgress: true }
      const result = await client.callTool({ name: tool, arguments: args }, CallToolResultSchema, options)
      return McpCallResult.parse(result)
    })
  }

  async connect(directory: string, name: string, config: McpConfig): Promise<McpStatus> {
    if (!this.keep) return this.use(directory, name, config, async () => ({ status: "connected" }) as McpStatus).catch(failure)
    await this.disconnect(directory, name)
    return (await this.ensure(directory, name, { ...config, enabled: true })).status
  }

  async disconnect(directory: string, name: string): Promise<void> {
    const key = keyOf(directory, name)
    const connection = this.connections.get(key)
    this.connections.delete(key)
    if (!connection) return
    await connection.opening
    await this.close(connection)
  }

  /** Closes every connection (the agent stops: no server process outlives it). */
  async closeAll(): Promise<void> {
    const all = [...this.connections.values()]
    this.connections.clear()
    await Promise.all(
      all.map(async (connection) => {
        await connection.opening
        await this.close(connection)
      }),
    )
  }

  /** `work` for each enabled server that connects; a server that fails is left out (its status says why). */
  private async each<T>(directory: string, servers: McpServers, work: (server: string, client: Client) => Promise<T[]>): Promise<T[]> {
    const lists = await Promise.all(
      Object.entries(servers)
        .filter(([, config]) => config.enabled !== false)
        .map(([name, config]) =>
          this.use(directory, name, config, (client) => work(name, client)).catch((error) => {
            this.log.warn("mcp server left out", { name, error: error instanceof Error ? error.message : String(error) })
            return [] as T[]
          }),
        ),
    )
    return lists.flat()
  }

  /** Runs `work` with a connected client of the server. */
  private async use<T>(directory: string, name: string, config: McpConfig, work: (client: Client) => Promise<T>): Promise<T> {
    if (!this.keep) {
      const client = await this.connector(config)(name, config, directory, timeoutOf(config))
      try {
        return await work(client)
      } finally {
        await client.close().catch(() => {})
      }
    }
    let connection = await this.ensure(directory, name, config)
    // A server that failed (or ended) is tried once more when it is needed.
    if (!connection.client && connection.status.status === "failed") connection = await this.reopen(directory, name, config)
    if (!connection.client) {
      throw new Error(connection.status.status === "failed" ? connection.status.error : `MCP server ${name} is ${connection.status.status}`)
    }
    return work(connection.client)
  }

  /** The server's connection, opened if it has none for this config yet. */
  private async ensure(directory: string, name: string, config: McpConfig): Promise<Connection> {
    const key = keyOf(directory, name)
    const text = JSON.stringify(config)
    const existing = this.connections.get(key)
    if (existing && existing.config === text) {
      await existing.opening
      return existing
    }
    if (existing) await this.disconnect(directory, name)
    const connection: Connection = { config: text, status: { status: "disabled" }, closing: false, restarts: [] }
    this.connections.set(key, connection)
    if (config.enabled !== false) await this.open(directory, name, config, connection)
    return connection
  }

  private async reopen(directory: string, name: string, config: McpConfig): Promise<Connection> {
    const connection = this.connections.get(keyOf(directory, name))
    if (!connection) return this.ensure(directory, name, config)
    await connection.opening
    if (!connection.client) await this.open(directory, name, config, connection)
    return connection
  }

  private open(directory: string, name: string, config: McpConfig, connection: Connection): Promise<void> {
    connection.opening = (async () => {
      try {
        const client = await this.connector(config)(name, config, directory, timeoutOf(config))
        if (connection.closing) {
          await client.close().catch(() => {})
          return
        }
        connection.client = client
        connection.status = { status: "connected" }
        client.onclose = () => this.ended(directory, name, config, connection, client)
        client.setNotificationHandler(ToolListChangedNotificationSchema, async () => this.toolsChanged(directory, name))
        this.log.info("mcp server connected", { name, type: config.type })
      } catch (error) {
        connection.status = failure(error)
        this.log.warn("mcp server failed", { name, status: connection.status })
      }
    })()
    return connection.opening.finally(() => (connection.opening = undefined))
  }

  /** The connection ended without us closing it: the server crashed or went away. */
  private ended(directory: string, name: string, config: McpConfig, connection: Connection, client: Client): void {
    if (connection.closing || connection.client !== client) return
    connection.client = undefined
    connection.status = { status: "failed", error: `MCP server ${name} ended unexpectedly` }
    const now = Date.now()
    connection.restarts = connection.restarts.filter((at) => now - at < RESTART_WINDOW_MS)
    if (connection.restarts.length >= RESTARTS) {
      connection.status = { status: "failed", error: `MCP server ${name} ended unexpectedly ${RESTARTS + 1} times within a minute; not restarted` }
      this.log.warn("mcp server not restarted", { name })
      return
    }
    connection.restarts.push(now)
    this.log.warn("mcp server ended; restarting", { name })
    void this.open(directory, name, config, connection)
  }

  private async close(connection: Connection): Promise<void> {
    connection.closing = true
    const client = connection.client
    connection.client = undefined
    await client?.close().catch(() => {})
  }
}

function keyOf(directory: string, name: string): string {
  return `${directory}\u0000${name}`
}
