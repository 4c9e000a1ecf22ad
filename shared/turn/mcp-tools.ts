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
   * then the server. The result becomes what upstream makes of it: text items and text resources are the output
   * (one after another), images and binary resources the model can read (PDF, GIF, JPEG, PNG, WebP up to 10 MB)
   * attachments; another binary resource is named in the output instead.
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
    const texts: string[] = []
    const attachments: NonNullable<ToolResult["attachments"]> = []
    for (const item of result.content) {
      if (item.type === "text" && typeof item.text === "string") texts.push(item.text)
      if (item.type === "image" && typeof item.data === "string" && typeof item.mimeType === "string") {
        attachments.push({ type: "file", mime: item.mimeType, url: `data:${item.mimeType};base64,${item.data}` })
      }
      if (item.type !== "resource") continue
      const resource = (item.resource ?? {}) as { uri?: string; mimeType?: string; text?: unknown; blob?: unknown }
      if (typeof resource.text === "string" && resource.text) texts.push(resource.text)
      if (typeof resource.blob !== "string" || !resource.blob) continue
      const mime = resource.mimeType ?? "application/octet-stream"
      const size = base64Size(resource.blob)
      if (!ATTACHABLE.has(mime)) texts.push(`[Binary MCP resource omitted: ${resource.uri} (${mime}, ${byteSize(size)}) is not a supported attachment type]`)
      else if (size > MAX_ATTACHMENT_BYTES) texts.push(`[Binary MCP resource omitted: ${resource.uri} (${mime}, ${byteSize(size)}) exceeds ${byteSize(MAX_ATTACHMENT_BYTES)}]`)
      else attachments.push({ type: "file", mime, url: `data:${mime};base64,${resource.blob}`, ...(resource.uri ? { filename: resource.uri } : {}) })
    }
    return { title: "", output: texts.join("\n\n"), metadata: { truncated: false }, ...(attachments.length ? { attachments } : {}) }
  }
}

/** The binary resources upstream attaches for the model; others are only named. */
const ATTACHABLE = new Set(["application/pdf", "image/gif", "image/jpeg", "image/png", "image/webp"])
const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

function base64Size(data: string): number {
  const compact = data.replace(/\s/g, "")
  const padding = compact.endsWith("==") ? 2 : compact.endsWith("=") ? 1 : 0
  return Math.max(0, Math.floor((compact.length * 3) / 4) - padding)
}

/** A size as upstream words it in the notes above: B, KB or MB, rounded up. */
function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`
  return `${Math.ceil(bytes / (1024 * 1024))} MB`
}
