import { z } from "zod"
import { defineError, NotFoundError } from "../error.ts"
import { machineUnavailable } from "../machine.ts"
import type { Ports } from "../ports.ts"
import { McpConfig, type McpStatus } from "../schema/app-info.ts"
import type { McpCallResult, McpPrompt, McpResourceInfo, McpServers, McpTool } from "../mcp/schema.ts"
import type { McpService } from "../mcp/service.ts"
import { readConfigSection } from "./agent.ts"
import { McpOAuth } from "../mcp/oauth.ts"
import { Bus } from "./bus.ts"

const PREFIX = "mcp/"

/** OAuth was asked of a server that does not use it (a local one, or `oauth: false`), as upstream's 400. */
export const McpUnsupportedOAuthError = defineError("McpUnsupportedOAuthError", z.object({ message: z.string() }), 400)

/** Authorizing in the browser was asked of a server that cannot open the user's browser (the edge). */
export const McpBrowserAuthUnavailableError = defineError("McpBrowserAuthUnavailableError", z.object({ message: z.string() }), 400)

/**
 * MCP servers: those of the config's `mcp` section plus those registered with `POST /mcp` (records
 * `mcp/<name>`, which win). Local servers (`type: "local"`) run on the machine, remote ones are called from
 * this server (on the edge, from the Worker). Connect and disconnect are stored as the server's `enabled`,
 * so every instance of the server sees them.
 */
export namespace Mcp {
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

  /** The server's config; 404 when no server has that name. */
  export async function server(ports: Ports, directory: string, name: string): Promise<McpConfig> {
    const config = (await servers(ports, directory)).get(name)
    if (!config) throw new NotFoundError({ message: `MCP server not found: ${name}` })
    return config
  }

  /** Where a server runs: local ones on the machine (none without one), remote ones here. */
  function serviceFor(ports: Ports, config: McpConfig): McpService | undefined {
    return config.type === "local" ? ports.machine?.mcp : ports.mcp
  }

  /** Whether the service that runs the server can be reached (a local server needs the machine's tunnel, on the edge). */
  async function reachable(ports: Ports, config: McpConfig): Promise<boolean> {
    if (config.type === "remote") return true
    return ports.machine !== undefined && (await ports.machine.connected().catch(() => false))
  }

  /** The servers switched on, split by the service that runs them; local ones without a machine go to `missing`. */
  async function byService(ports: Ports, directory: string) {
    const groups = new Map<McpService, McpServers>()
    const missing: string[] = []
    const disabled: string[] = []
    for (const [name, config] of await servers(ports, directory)) {
      if (config.enabled === false) disabled.push(name)
      else if (!(await reachable(ports, config))) missing.push(name)
      else {
        const service = serviceFor(ports, config)!
        groups.set(service, { ...groups.get(service), [name]: config })
      }
    }
    return { groups: [...groups], missing, disabled }
  }

  export async function statuses(ports: Ports, directory: string): Promise<Record<string, McpStatus>> {
    const { groups, missing, disabled } = await byService(ports, directory)
    const out: Record<string, McpStatus> = {}
    for (const name of disabled) out[name] = { status: "disabled" }
    for (const name of missing) out[name] = { status: "failed", error: machineUnavailable().message }
    for (const answer of await Promise.all(groups.map(([service, group]) => service.status(directory, group)))) Object.assign(out, answer)
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))
  }

  /** The tools of every connected server, each with the config it is called with. */
  export async function tools(ports: Ports, directory: string): Promise<Array<McpTool & { config: McpConfig }>> {
    const { groups } = await byService(ports, directory)
    const lists = await Promise.all(
      groups.map(async ([service, group]) => (await service.tools(directory, group)).map((tool) => ({ ...tool, config: group[tool.server]! }))),
    )
    return lists.flat()
  }

  export async function prompts(ports: Ports, directory: string): Promise<McpPrompt[]> {
    const { groups } = await byService(ports, directory)
    return (await Promise.all(groups.map(([service, group]) => service.prompts(directory, group)))).flat()
  }

  export async function resources(ports: Ports, directory: string): Promise<McpResourceInfo[]> {
    const { groups } = await byService(ports, directory)
    return (await Promise.all(groups.map(([service, group]) => service.resources(directory, group)))).flat()
  }

  /**
   * A server's prompt as a command template, as upstream makes one: each argument filled with its placeholder
   * (`$1`, `$2`… in the prompt's order), the messages' text one per line.
   */
  export async function promptTemplate(ports: Ports, directory: string, prompt: McpPrompt): Promise<string> {
    const config = await server(ports, directory, prompt.server)
    const service = serviceFor(ports, config)
    if (!service) throw machineUnavailable()
    const args = Object.fromEntries((prompt.arguments ?? []).map((argument, index) => [argument.name, `$${index + 1}`]))
    return service.prompt(directory, prompt.server, config, prompt.name, args)
  }

  export function call(ports: Ports, directory: string, name: string, config: McpConfig, tool: string, args: Record<string, unknown>): Promise<McpCallResult> {
    const service = serviceFor(ports, config)
    if (!service) throw machineUnavailable()
    return service.call(directory, name, config, tool, args)
  }

  export async function add(ports: Ports, directory: string, name: string, config: McpConfig): Promise<Record<string, McpStatus>> {
    await ports.records.put(PREFIX + name, config)
    ports.log.info("mcp server registered", { name, type: config.type })
    return statuses(ports, directory)
  }

  /** Switches a server on (stored) and connects it again now; 404 when no server has that name. */
  export async function connect(ports: Ports, directory: string, name: string): Promise<McpStatus> {
    const config = { ...(await server(ports, directory, name)), enabled: true }
    await ports.records.put(PREFIX + name, config)
    if (!(await reachable(ports, config))) return { status: "failed", error: machineUnavailable().message }
    return serviceFor(ports, config)!.connect(directory, name, config)
  }

  /** Switches a server off (stored; it then reports disabled) and closes it; 404 when no server has that name. */
  export async function disconnect(ports: Ports, directory: string, name: string): Promise<void> {
    const config = await server(ports, directory, name)
    await ports.records.put(PREFIX + name, { ...config, enabled: false })
    if (await reachable(ports, config)) await serviceFor(ports, config)!.disconnect(directory, name)
  }
}

/** OAuth with a remote server (upstream's `/mcp/:name/auth*`). */
export namespace McpAuth {
  async function remote(ports: Ports, directory: string, name: string) {
    const config = await Mcp.server(ports, directory, name)
    if (config.type !== "remote" || config.oauth === false) throw new McpUnsupportedOAuthError({ message: `MCP server ${name} does not use OAuth` })
    return config
  }

  /** The authorization URL to open; empty when the server lets us in as it is (then it is connected), as upstream's. */
  export async function start(ports: Ports, directory: string, name: string) {
    const config = await remote(ports, directory, name)
    if ((await Mcp.connect(ports, directory, name)).status === "connected") return { authorizationUrl: "", oauthState: "" }
    return McpOAuth.start(ports, name, config)
  }

  /** Trades the code for tokens, then connects the server with them. */
  export async function callback(ports: Ports, directory: string, name: string, code: string): Promise<McpStatus> {
    await McpOAuth.finish(ports, name, await remote(ports, directory, name), code)
    return Mcp.connect(ports, directory, name)
  }

  /**
   * Upstream's one-step OAuth: starts the flow, opens the authorization URL in the user's browser (when none
   * opens, `mcp.browser.open.failed` carries the URL for the user to open), waits for the browser to come back
   * to the redirect URI, and finishes as `/auth/callback`. Only a server on the user's own computer can.
   */
  export async function authenticate(ports: Ports, directory: string, name: string): Promise<McpStatus> {
    const config = await remote(ports, directory, name)
    const browser = ports.browserAuth
    if (!browser) {
      throw new McpBrowserAuthUnavailableError({
        message: `This server cannot open your browser: start OAuth for MCP server ${name} with POST /mcp/${name}/auth, open its authorizationUrl, and send the code to POST /mcp/${name}/auth/callback`,
      })
    }
    const { authorizationUrl, oauthState } = await start(ports, directory, name)
    if (!authorizationUrl) return Mcp.connect(ports, directory, name)
    const { code } = await browser.listen(McpOAuth.redirectUri(config), oauthState)
    await browser.open(authorizationUrl).catch(() => Bus.publish(ports, directory, "mcp.browser.open.failed", { mcpName: name, url: authorizationUrl }))
    return callback(ports, directory, name, await code)
  }

  export async function remove(ports: Ports, directory: string, name: string): Promise<void> {
    await remote(ports, directory, name)
    await McpOAuth.remove(ports, name)
  }
}
