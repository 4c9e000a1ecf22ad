import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import { VERSION } from "../version.ts"

/**
 * Tool results go to the model as the server sent them, so their output schemas are not checked; this also
 * keeps Ajv's compiled validators (code made at run time, refused by workerd) out of the edge.
 */
const acceptEverything: jsonSchemaValidator = {
  getValidator: () => (input) => ({ valid: true, data: input as never, errorMessage: undefined }),
}

/** A new MCP client (named as upstream names its own), connected over `transport`; one that fails to connect is closed. */
export async function connectMcpClient(transport: Transport, timeoutMs: number): Promise<Client> {
  const client = new Client({ name: "opencode", version: VERSION }, { jsonSchemaValidator: acceptEverything })
  try {
    await client.connect(transport, { timeout: timeoutMs })
    return client
  } catch (error) {
    await client.close().catch(() => {})
    throw error
  }
}
