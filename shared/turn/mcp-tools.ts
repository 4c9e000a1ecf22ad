import { jsonSchema, tool, type ToolSet } from "ai"
import type { Ports } from "../ports.ts"
import type { Agent, McpConfig } from "../schema/app-info.ts"
import type { Config } from "../schema/config.ts"
import type { Session } from "../schema/session.ts"
import type { ToolResult } from "../tools.ts"
import { Mcp } from "../domain/mcp.ts"
import { cleanMcpName } from "../mcp/schema.ts"
import { ToolPermission } from "../domain/tool-permission.ts"
import { switchedOn } from "./tools.ts"

/** One MCP server's tool as the model sees it. */
export interface McpToolEntry {
  server: string
  tool: string
  config: McpConfig
  description?: string
  inputSchema: Record<string, unknown>
}

/** Upstream's name for a server's tool: `<server>_<tool>`, each with anything but letters, digits, `_` and `-` made `_`. */
export function mcpToolName(server: string, tool: string): string {
  return `${cleanMcpName(server)}_${cleanMcpName(tool)}`
}

export namespace McpTools {
  /**
   * The connected servers' tools for a turn, by the name the model calls them, minus those switched off by the
   * config's, agent's and prompt's `tools` maps and those the agent's rules deny outright (as built-in tools).
   */
  export async function offered(ports: Ports, directory: string, config: Config, agent: Agent, prompt: Record<string, boolean> | undefined) {
    const maps = [config.tools, agent.tools, prompt].filter((map): map is Record<string, boolean> => map !== undefined)
    const offered = new Map<string, McpToolEntry>()
    for (const listed of await Mcp.tools(ports, directory)) {
      const name = mcpToolName(listed.server, listed.name)
      if (!switchedOn(maps, name) || ToolPermission.deniedOutright(agent.permission, name)) continue
      offered.set(name, {
        server: listed.server,
        tool: listed.name,
        config: listed.config,
        ...(listed.description !== undefined ? { description: listed.description } : {}),
        inputSchema: listed.inputSchema,
      })
    }
    return offered
  }

  /** The tools' declarations for the model (no `execute`: the step runs each call itself). */
  export function toolSet(offered: Map<string, McpToolEntry>): ToolSet {
    const set: ToolSet = {}
    for (const [name, entry] of offered) {
      set[name] = tool({ description: entry.description ?? "", inputSchema: jsonSchema({ type: "object", ...entry.inputSchema } as Parameters<typeof jsonSchema>[0]) })
    }
    return set
  }

  /**
   * Runs one call: the permission rules first (the permission is the tool's name, the subject `*`, as upstream),
   * then the server. The output is the result's text (text items and resources' text, one after another), as
   * upstream shows it in the tool part.
   */
  export async function execute(
    ports: Ports,
    call: { directory: string; session: Session; agent: string; messageID: string; callID: string; signal: AbortSignal },
    name: string,
    entry: McpToolEntry,
    args: Record<string, unknown>,
  ): Promise<ToolResult> {
    await ToolPermission.check(ports, { ...call, toolID: name, args })
    const result = await Mcp.call(ports, call.directory, entry.server, entry.config, entry.tool, args)
    const texts = result.content.flatMap((item) => {
      if (item.type === "text" && typeof item.text === "string") return [item.text]
      const resource = item.type === "resource" ? (item.resource as { text?: unknown } | undefined) : undefined
      return typeof resource?.text === "string" ? [resource.text] : []
    })
    return { title: "", output: texts.join("\n\n"), metadata: { truncated: false } }
  }
}
