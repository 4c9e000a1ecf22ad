import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { testMcpServer } from "./tools.ts"

export interface McpHttpServer {
  url: string
  /** The Authorization header of each request, in order. */
  authorizations: Array<string | undefined>
  close(): Promise<void>
}

/**
 * A remote MCP server on 127.0.0.1 over streamable HTTP (stateless: a fresh server per request). With `token`,
 * a request without `Authorization: Bearer <token>` gets 401, as a server that wants OAuth answers.
 */
export async function startMcpHttpServer(options: { token?: string; label?: string; oauth?: boolean } = {}): Promise<McpHttpServer> {
  const authorizations: Array<string | undefined> = []
  const server: Server = createServer(async (request, response) => {
    if (options.oauth && options.token && authorizationServer(request, response, origin(), options.token)) return
    authorizations.push(request.headers.authorization)
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
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
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** The code the test's authorization server accepts; it answers the server's token for it. */
export const OAUTH_TEST_CODE = "good-code"

/**
 * Just enough of an OAuth authorization server for the MCP SDK's client flow: metadata, dynamic client
 * registration, and a token endpoint that trades OAUTH_TEST_CODE for the token. True when it answered.
 */
function authorizationServer(request: IncomingMessage, response: ServerResponse, origin: string, token: string): boolean {
  const path = new URL(request.url ?? "/", origin).pathname
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
  if (path === "/register" || path === "/token") {
    let body = ""
    request.on("data", (chunk) => (body += chunk))
    request.on("end", () => {
      if (path === "/register") return json(201, { ...JSON.parse(body), client_id: "test-client", client_id_issued_at: Math.floor(Date.now() / 1000) })
      const code = new URLSearchParams(body).get("code")
      if (code !== OAUTH_TEST_CODE) return json(400, { error: "invalid_grant" })
      json(200, { access_token: token, token_type: "Bearer", expires_in: 3600 })
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
