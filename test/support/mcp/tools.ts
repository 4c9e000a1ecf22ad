import { appendFileSync } from "node:fs"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { z } from "zod"

/**
 * The MCP server the tests talk to (the same over stdio and over HTTP): tools with names upstream rewrites
 * (`say.hello`), a tool that crashes its process, a prompt and a resource.
 */
export function testMcpServer(label: string): McpServer {
  const server = new McpServer({ name: `test-${label}`, version: "1.0.0" })
  server.registerTool(
    "echo",
    { description: "Echoes the text back", inputSchema: { text: z.string().describe("What to echo") } },
    async ({ text }) => ({ content: [{ type: "text", text: `${label} echo: ${text}` }] }),
  )
  server.registerTool("say.hello", { description: "Says hello", inputSchema: {} }, async () => ({
    content: [
      { type: "text", text: "hello" },
      { type: "text", text: "world" },
    ],
  }))
  server.registerTool("crash", { description: "Ends the server's process at once", inputSchema: {} }, async () => {
    process.exit(3)
  })
  server.registerTool("grow", { description: "Adds the `extra` tool (the server says its tools changed)", inputSchema: {} }, async () => {
    server.registerTool("extra", { description: "Added by grow", inputSchema: {} }, async () => ({ content: [{ type: "text", text: "extra" }] }))
    return { content: [{ type: "text", text: "grown" }] }
  })
  server.registerTool("picture", { description: "Answers a picture, a text resource and a binary one", inputSchema: {} }, async () => ({
    content: [
      { type: "text", text: "a picture" },
      { type: "image", data: TINY_PNG, mimeType: "image/png" },
      { type: "resource", resource: { uri: "test://caption.txt", mimeType: "text/plain", text: "the caption" } },
      { type: "resource", resource: { uri: "test://archive.zip", mimeType: "application/zip", blob: "UEsDBA==" } },
    ],
  }))
  server.registerPrompt("greet", { description: "A greeting", argsSchema: { who: z.string() } }, ({ who }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Say hello to ${who}` } }],
  }))
  server.registerResource("notes", "test://notes", { description: "Some notes", mimeType: "text/plain" }, async (uri) => ({
    contents: [{ uri: uri.href, text: "the notes" }],
  }))
  return server
}

/** A 1×1 PNG, base64. */
export const TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

/** Each start of a stdio server appends its pid here (MCP_PID_FILE), so tests can see it restarted or ended. */
export function recordPid(): void {
  const file = process.env.MCP_PID_FILE
  if (file) appendFileSync(file, `${process.pid}\n`)
}
