/** A local (stdio) MCP server for the tests: `tsx test/support/mcp/stdio-server.ts`. */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { recordPid, testMcpServer } from "./tools.ts"

recordPid()
await testMcpServer(process.env.MCP_LABEL ?? "local").connect(new StdioServerTransport())
