import { NotFoundError } from "../error.ts"
import type { Ports } from "../ports.ts"
import { McpConfig, type McpStatus } from "../schema/app-info.ts"
import { readConfigSection } from "./agent.ts"

const PREFIX = "mcp/"

/**
 * MCP servers: those of the config's `mcp` section plus those registered with `POST /mcp` (records
 * `mcp/<name>`, which win). Nothing runs MCP servers yet, so the status says exactly that: `disabled`
 * when the server is switched off, otherwise `failed` with the reason. Never `connected`.
 */
export namespace Mcp {
  export const NOT_SUPPORTED = "MCP servers are not supported by this server yet; the server is registered but not running"

  function status(config: McpConfig): McpStatus {
    if (config.enabled === false) return { status: "disabled" }
    return { status: "failed", error: NOT_SUPPORTED }
  }

  async function servers(ports: Ports, directory: string): Promise<Map<string, McpConfig>> {
    const out = new Map<string, McpConfig>()
    for (const [name, entry] of Object.entries(await readConfigSection(ports, directory, "mcp"))) {
      const parsed = McpConfig.safeParse(entry)
      if (parsed.success) out.set(name, parsed.data)
    }
    for (const [key, entry] of await ports.records.list<unknown>(PREFIX)) {
      const parsed = McpConfig.safeParse(entry)
      if (parsed.success) out.set(key.slice(PREFIX.length), parsed.data)
    }
    return out
  }

  export async function statuses(ports: Ports, directory: string): Promise<Record<string, McpStatus>> {
    const out: Record<string, McpStatus> = {}
    for (const [name, config] of [...(await servers(ports, directory))].sort(([a], [b]) => a.localeCompare(b))) out[name] = status(config)
    return out
  }

  export async function add(ports: Ports, directory: string, name: string, config: McpConfig): Promise<Record<string, McpStatus>> {
    await ports.records.put(PREFIX + name, config)
    ports.log.info("mcp server registered", { name, type: config.type })
    return statuses(ports, directory)
  }

  /** Switches a server on or off (stored); 404 when no server has that name. */
  export async function setEnabled(ports: Ports, directory: string, name: string, enabled: boolean): Promise<void> {
    const config = (await servers(ports, directory)).get(name)
    if (!config) throw new NotFoundError({ message: `MCP server not found: ${name}` })
    await ports.records.put(PREFIX + name, { ...config, enabled })
  }
}
