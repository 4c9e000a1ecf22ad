import { createServer, type Server } from "node:http"
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
export async function startMcpHttpServer(options: { token?: string; label?: string } = {}): Promise<McpHttpServer> {
  const authorizations: Array<string | undefined> = []
  const server: Server = createServer(async (request, response) => {
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
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
