import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError, NotFoundError } from "../error.ts"
import { Records } from "./records.ts"
import type { Auth, Config, Model, Provider, ProviderAuthMethod, ProviderConfig, ProviderModelConfig } from "../schema/config.ts"

/**
 * The tenant's config (records key `config`) and provider credentials (records keys `auth/<providerID>`,
 * sealed by the runtime's sealer). Credentials go in and never come out of any route.
 */

/** The runtime cannot keep credentials safely (on the edge: no `OPENCODE_SECRETS_KEY` secret). */
export const SecretsUnavailableError = defineError("SecretsUnavailableError", z.object({ message: z.string() }), 503)

const CONFIG_KEY = "config"
const AUTH_PREFIX = "auth/"

interface SealedRecord {
  sealed: string
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

/** Objects merge key by key, recursively; anything else (arrays included) in `patch` replaces. */
export function mergeDeep(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue
    out[key] = key in base ? mergeDeep(base[key], value) : value
  }
  return out
}

export const Configs = {
  async get(ports: Ports): Promise<Config> {
    return (await ports.records.get<Config>(CONFIG_KEY)) ?? {}
  },

  /** Merges `patch` into the stored config; a concurrent PATCH is never lost (Records.update). */
  async update(ports: Ports, patch: Config): Promise<Config> {
    return Records.update<Config>(ports.records, CONFIG_KEY, (stored) => mergeDeep(stored ?? {}, patch) as Config)
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
export async function providers(ports: Ports): Promise<ProviderView> {
  const [config, connected] = await Promise.all([Configs.get(ports), Credentials.connected(ports)])
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
export async function authMethods(ports: Ports): Promise<Record<string, ProviderAuthMethod[]>> {
  const { providers: list } = await providers(ports)
  return Object.fromEntries(list.map((provider) => [provider.id, [{ type: "api" as const, label: "API key" }]]))
}
