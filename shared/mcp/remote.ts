import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js"
import type { McpConfig } from "../schema/app-info.ts"
import { connectMcpClient } from "./client.ts"
import { McpNeedsAuth, type McpConnector } from "./pool.ts"

function unauthorized(error: unknown): boolean {
  return error instanceof UnauthorizedError || (typeof error === "object" && error !== null && (error as { code?: unknown }).code === 401)
}

/** The OAuth provider a connection to the server authorizes with, if it has been authorized. */
export type McpAuthProviders = (name: string, config: McpConfig) => Promise<OAuthClientProvider | undefined>

/**
 * A remote server, as upstream connects to one: streamable HTTP first, then SSE; the config's headers on every
 * request, and the server's OAuth tokens (the SDK refreshes an expired one when the server answers 401). A 401
 * that no token answers means the server wants OAuth: `needs_auth`, unless the config turned OAuth off
 * (`oauth: false`).
 */
export function remoteConnector(fetch: typeof globalThis.fetch, authProviders: McpAuthProviders = async () => undefined): McpConnector {
  return async (name, config: McpConfig, _directory, timeoutMs): Promise<Client> => {
    if (config.type !== "remote") throw new Error("Not a remote MCP server")
    const url = new URL(config.url)
    const requestInit: RequestInit = { headers: config.headers ?? {} }
    const authProvider = await authProviders(name, config)
    const attempt = async (transport: StreamableHTTPClientTransport | SSEClientTransport) => {
      try {
        return await connectMcpClient(transport, timeoutMs)
      } catch (error) {
        if (unauthorized(error) && config.oauth !== false) throw new McpNeedsAuth(`MCP server at ${config.url} requires authorization`)
        throw error
      }
    }
    try {
      return await attempt(new StreamableHTTPClientTransport(url, { requestInit, fetch, authProvider }))
    } catch (error) {
      if (error instanceof McpNeedsAuth) throw error
      try {
        return await attempt(new SSEClientTransport(url, { requestInit, fetch, authProvider }))
      } catch (fallback) {
        if (fallback instanceof McpNeedsAuth) throw fallback
        throw error
      }
    }
  }
}
