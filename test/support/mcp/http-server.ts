import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { testMcpServer } from "./tools.ts"

export interface McpHttpServer {
  url: string
  /** The Authorization header of each MCP request, in order. */
  authorizations: Array<string | undefined>
  /** With `oauth`: the grant type of each token request, in order (`authorization_code`, `refresh_token`). */
  grants: string[]
  /** With `oauth`: every access token issued so far stops working (as when they expire); refresh tokens still work. */
  expireAccessTokens(): void
  close(): Promise<void>
}

/**
 * A remote MCP server on 127.0.0.1 over streamable HTTP (stateless: a fresh server per request). With `oauth`,
 * it is also its own authorization server, and an MCP request without a live access token gets 401, as a server
 * that wants OAuth answers.
 */
export async function startMcpHttpServer(options: { label?: string; oauth?: boolean } = {}): Promise<McpHttpServer> {
  const authorizations: Array<string | undefined> = []
  const tokens: OAuthTokens = { live: new Set(), refresh: new Set(), issued: 0, grants: [] }
  const server: Server = createServer(async (request, response) => {
    if (options.oauth && authorizationServer(request, response, origin(), tokens)) return
    authorizations.push(request.headers.authorization)
    if (options.oauth && !tokens.live.has((request.headers.authorization ?? "").replace(/^Bearer /, ""))) {
      response.writeHead(401, { "www-authenticate": 'Bearer realm="test"', "content-type": "application/json" }).end('{"error":"unauthorized"}')
      return
    }
    if (request.method !== "POST") {
      response.writeHead(405).end()
      return
    }
    const mcp = testMcpServer(options.label ?? "remote")
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    response.on("close", () => {
      void transport.close()
      void mcp.close()
    })
    await mcp.connect(transport)
    await transport.handleRequest(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  const origin = () => `http://127.0.0.1:${port}`
  return {
    url: `${origin()}/mcp`,
    authorizations,
    grants: tokens.grants,
    expireAccessTokens: () => tokens.live.clear(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The code the test's authorization server accepts. */
export const OAUTH_TEST_CODE = "good-code"

interface OAuthTokens {
  live: Set<string>
  refresh: Set<string>
  issued: number
  grants: string[]
}

/**
 * Just enough of an OAuth authorization server for the MCP SDK's client flow: metadata, dynamic client
 * registration, an authorization endpoint that sends the browser back with OAUTH_TEST_CODE, and a token endpoint
 * that trades that code, or a refresh token, for `access-<n>` and `refresh-<n>`. True when it answered.
 */
function authorizationServer(request: IncomingMessage, response: ServerResponse, origin: string, tokens: OAuthTokens): boolean {
  const url = new URL(request.url ?? "/", origin)
  const path = url.pathname
  const json = (status: number, body: unknown) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body))
  if (path.startsWith("/.well-known/oauth-protected-resource")) {
    json(200, { resource: `${origin}/mcp`, authorization_servers: [origin] })
    return true
  }
  if (path.startsWith("/.well-known/oauth-authorization-server") || path.startsWith("/.well-known/openid-configuration")) {
    json(200, {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      registration_endpoint: `${origin}/register`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
    })
    return true
  }
  if (path === "/authorize") {
    const back = new URL(url.searchParams.get("redirect_uri") ?? "")
    back.searchParams.set("code", OAUTH_TEST_CODE)
    back.searchParams.set("state", url.searchParams.get("state") ?? "")
    response.writeHead(302, { location: back.toString() }).end()
    return true
  }
  if (path === "/register" || path === "/token") {
    let body = ""
    request.on("data", (chunk) => (body += chunk))
    request.on("end", () => {
      if (path === "/register") return json(201, { ...JSON.parse(body), client_id: "test-client", client_id_issued_at: Math.floor(Date.now() / 1000) })
      const form = new URLSearchParams(body)
      const grant = form.get("grant_type") ?? ""
      tokens.grants.push(grant)
      const accepted = grant === "authorization_code" ? form.get("code") === OAUTH_TEST_CODE : grant === "refresh_token" && tokens.refresh.delete(form.get("refresh_token") ?? "")
      if (!accepted) return json(400, { error: "invalid_grant" })
      const n = ++tokens.issued
      tokens.live.add(`access-${n}`)
      tokens.refresh.add(`refresh-${n}`)
      json(200, { access_token: `access-${n}`, token_type: "Bearer", expires_in: 60, refresh_token: `refresh-${n}` })
    })
    return true
  }
  return false
}

/**
 * A remote MCP server that speaks only the older HTTP+SSE transport (GET the stream, POST messages to the
 * endpoint it names); a streamable HTTP POST to its URL gets 405, so clients fall back to SSE.
 */
export async function startMcpSseServer(label = "sse"): Promise<{ url: string; close(): Promise<void> }> {
  const { SSEServerTransport } = await import("@modelcontextprotocol/sdk/server/sse.js")
  const transports = new Map<string, InstanceType<typeof SSEServerTransport>>()
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1")
    if (request.method === "GET" && url.pathname === "/sse") {
      const transport = new SSEServerTransport("/messages", response)
      transports.set(transport.sessionId, transport)
      response.on("close", () => transports.delete(transport.sessionId))
      await testMcpServer(label).connect(transport)
      return
    }
    const transport = request.method === "POST" && url.pathname === "/messages" ? transports.get(url.searchParams.get("sessionId") ?? "") : undefined
    if (!transport) {
      response.writeHead(405).end()
      return
    }
    await transport.handlePostMessage(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/sse`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
