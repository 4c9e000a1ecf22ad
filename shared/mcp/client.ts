import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js"
import { VERSION } from "../version.ts"

/**
 * Tool results go to the model as the server sent them, so their output schemas are not checked; this also
 * keeps Ajv's compiled validators (code made at run time, refused by workerd) out of the edge.
 */
const acceptEverything: jsonSchemaValidator = {
  getValidator: () => (input) => ({ valid: true, data: input as never, errorMessage: undefined }),
}

/** A new MCP client, named as upstream names its own. */
export function newMcpClient(): Client {
  return new Client({ name: "opencode", version: VERSION }, { jsonSchemaValidator: acceptEverything })
}
