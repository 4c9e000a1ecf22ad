import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError, MachineUnavailableError, NotFoundError } from "../error.ts"
import { Records } from "./records.ts"
import { ConfigFiles } from "../config/files.ts"
import { ConfigMerge } from "../config/merge.ts"
import type { Auth, Config, Model, Provider, ProviderAuthMethod, ProviderConfig, ProviderModelConfig } from "../schema/config.ts"

/**
 * The config: the user's files on the machine (shared/config/), under the layer `PATCH /config` stores (records
 * key `config`); and provider credentials (records keys `auth/<providerID>`, sealed by the runtime's sealer).
 * Credentials go in and never come out of any route.
 */

/** The runtime cannot keep credentials safely (on the edge: no `OPENCODE_SECRETS_KEY` secret). */
export const SecretsUnavailableError = defineError("SecretsUnavailableError", z.object({ message: z.string() }), 503)

const CONFIG_KEY = "config"
const AUTH_PREFIX = "auth/"

interface SealedRecord {
  sealed: string
}

/**
 * The machine's config files for `directory`, merged. No machine (or one not connected, as on the edge before
 * pairing or while the agent is away) has no files: the stored layer is the whole config then. A broken file
 * throws its ConfigJsonError, ConfigFrontmatterError or ConfigInvalidError.
 */
async function fileLayer(ports: Ports, directory: string): Promise<Config> {
  if (!ports.machine) return {}
  try {
    return ConfigFiles.merge(await ports.machine.config.sources(directory))
  } catch (error) {
    // Asking is how the edge learns the machine is away: one round trip instead of connected() and then sources().
    if (error instanceof MachineUnavailableError) return {}
    throw error
  }
}

async function storedLayer(ports: Ports): Promise<Config> {
  return (await ports.records.get<Config>(CONFIG_KEY)) ?? {}
}

export const Configs = {
  /** The config for `directory`: its files, then what PATCH /config stored on top. */
  async get(ports: Ports, directory: string): Promise<Config> {
    const [files, stored] = await Promise.all([fileLayer(ports, directory), storedLayer(ports)])
    return ConfigMerge.layer(files, stored)
  },

  /**
   * Merges `patch` into the stored layer (a concurrent PATCH is never lost: Records.update) and answers the config
   * for `directory`. The files are read first, so a broken file fails the PATCH before anything is stored.
   */
  async update(ports: Ports, directory: string, patch: Config): Promise<Config> {
    const files = await fileLayer(ports, directory)
    const stored = await Records.update<Config>(ports.records, CONFIG_KEY, (current) => ConfigMerge.deep(current ?? {}, patch) as Config)
    return ConfigMerge.layer(files, stored)
  },
}

export const Credentials = {
  async set(ports: Ports, providerID: string, auth: Auth): Promise<void> {
    const sealed = await ports.sealer.seal(JSON.stringify(auth))
    await ports.records.put(AUTH_PREFIX + providerID, { sealed } satisfies SealedRecord)
  },

  async remove(ports: Ports, providerID: string): Promise<void> {
    if (!(await ports.records.delete(AUTH_PREFIX + providerID))) {
      throw new NotFoundError({ message: `No credentials stored for provider ${providerID}` })
    }
  },

  /** Provider ids with stored credentials (the credentials themselves stay sealed). */
  async connected(ports: Ports): Promise<string[]> {
    const entries = await ports.records.list<SealedRecord>(AUTH_PREFIX)
    return entries.map(([key]) => key.slice(AUTH_PREFIX.length))
  },
}

const MODALITIES = ["text", "audio", "image", "video", "pdf"] as const

function modalities(list: readonly string[] | undefined, fallback: readonly string[]) {
  const present = new Set(list ?? fallback)
  return Object.fromEntries(MODALITIES.map((name) => [name, present.has(name)])) as Record<(typeof MODALITIES)[number], boolean>
}

function toModel(providerID: string, provider: ProviderConfig, key: string, model: ProviderModelConfig): Model {
  const id = model.id ?? key
  const interleaved = model.interleaved
  return {
    id,
    providerID,
    api: {
      id,
      url: model.provider?.api ?? provider.api ?? "",
      npm: model.provider?.npm ?? provider.npm ?? "@ai-sdk/openai-compatible",
    },
    name: model.name ?? key,
    ...(model.family !== undefined ? { family: model.family } : {}),
    capabilities: {
      temperature: model.temperature ?? false,
      reasoning: model.reasoning ?? false,
      attachment: model.attachment ?? false,
      toolcall: model.tool_call ?? true,
      input: modalities(model.modalities?.input, ["text"]),
      output: modalities(model.modalities?.output, ["text"]),
      interleaved: typeof interleaved === "string" ? { field: interleaved } : (interleaved ?? false),
    },
    cost: {
      input: model.cost?.input ?? 0,
      output: model.cost?.output ?? 0,
      cache: { read: model.cost?.cache_read ?? 0, write: model.cost?.cache_write ?? 0 },
    },
    limit: {
      context: model.limit?.context ?? 0,
      ...(model.limit?.input !== undefined ? { input: model.limit.input } : {}),
      output: model.limit?.output ?? 0,
    },
    status: model.status ?? "active",
    options: model.options ?? {},
    headers: model.headers ?? {},
    release_date: model.release_date ?? "",
    ...(model.variants !== undefined ? { variants: model.variants } : {}),
  }
}

export interface ProviderView {
  providers: Provider[]
  default: Record<string, string>
  connected: string[]
}

/**
 * The providers this server knows: those the config declares (there is no model catalogue yet), minus
 * `disabled_providers`, within `enabled_providers` when set. No route shows a stored key: `key` is left
 * out and an `apiKey` option is dropped.
 */
export async function providers(ports: Ports, directory: string): Promise<ProviderView> {
  const [config, connected] = await Promise.all([Configs.get(ports, directory), Credentials.connected(ports)])
  const disabled = new Set(config.disabled_providers ?? [])
  const enabled = config.enabled_providers ? new Set(config.enabled_providers) : undefined
  const [preferredProvider, ...preferredModel] = (config.model ?? "").split("/")
  const list: Provider[] = []
  const defaults: Record<string, string> = {}
  for (const [providerID, provider] of Object.entries(config.provider ?? {})) {
    if (disabled.has(providerID) || (enabled && !enabled.has(providerID))) continue
    const { apiKey: _hidden, ...options } = provider.options ?? {}
    const models: Record<string, Model> = {}
    for (const [key, model] of Object.entries(provider.models ?? {})) {
      if (provider.whitelist && !provider.whitelist.includes(key)) continue
      if (provider.blacklist?.includes(key)) continue
      models[key] = toModel(providerID, provider, key, model)
    }
    list.push({
      id: providerID,
      name: provider.name ?? providerID,
      source: connected.includes(providerID) ? "api" : "config",
      env: provider.env ?? [],
      options,
      models,
    })
    const preferred = preferredProvider === providerID ? preferredModel.join("/") : undefined
    const first = Object.keys(models)[0]
    if (preferred && models[preferred]) defaults[providerID] = preferred
    else if (first !== undefined) defaults[providerID] = first
  }
  return { providers: list, default: defaults, connected }
}

/** Every known provider takes an API key through `PUT /auth/:providerID`; no OAuth flows exist yet. */
export async function authMethods(ports: Ports, directory: string): Promise<Record<string, ProviderAuthMethod[]>> {
  const { providers: list } = await providers(ports, directory)
  return Object.fromEntries(list.map((provider) => [provider.id, [{ type: "api" as const, label: "API key" }]]))
}
