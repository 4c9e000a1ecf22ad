import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError } from "../error.ts"
import { Configs, Credentials } from "../domain/config.ts"
import { ConfigMerge } from "../config/merge.ts"
import type { Config, Model, Provider, ProviderAuthMethod, ProviderConfig } from "../schema/config.ts"
import { CATALOGUE } from "./catalogue.ts"
import { sortModels, toModel } from "./model-info.ts"

/** A prompt, agent or config named a model no known provider has (upstream's name). */
export const ProviderModelNotFoundError = defineError(
  "ProviderModelNotFoundError",
  z.object({ providerID: z.string(), modelID: z.string(), message: z.string(), suggestions: z.array(z.string()).optional() }),
  400,
)

export interface ModelRef {
  providerID: string
  modelID: string
}

/** One provider as this server can use it: its public info, its merged settings and the credential to call it with. */
export interface ResolvedProvider {
  info: Provider
  settings: ProviderConfig
  /** The API key, when one exists (config `options.apiKey`, then `PUT /auth`, then the provider's environment variables). */
  key?: string
  /** Usable: a credential exists, or the config declares the provider with its own endpoint (a local server needs no key). */
  connected: boolean
}

export interface ProviderView {
  providers: Provider[]
  /** The preferred model of each provider. */
  default: Record<string, string>
  connected: string[]
}

/** Splits `provider/model` (the model part may itself contain slashes). */
export function parseModelRef(value: string | undefined): ModelRef | undefined {
  const slash = value?.indexOf("/") ?? -1
  if (!value || slash <= 0 || slash === value.length - 1) return undefined
  return { providerID: value.slice(0, slash), modelID: value.slice(slash + 1) }
}

/**
 * The providers of a directory: the bundled catalogue, extended and overridden by the config's `provider`
 * section, minus `disabled_providers`, within `enabled_providers`. No route shows a key: `key` is left out of
 * the info and an `apiKey` option is dropped.
 */
export namespace Providers {
  /** What every lookup needs once: the directory's config and the ids with stored credentials. */
  interface Context {
    config: Config
    stored: Set<string>
  }

  async function context(ports: Ports, directory: string, config?: Config): Promise<Context> {
    const [loaded, stored] = await Promise.all([config ?? Configs.get(ports, directory), Credentials.connected(ports)])
    return { config: loaded, stored: new Set(stored) }
  }

  /** Known providers (catalogue and config), minus `disabled_providers`, within `enabled_providers`; the config's first. */
  function ids({ config }: Context): string[] {
    const disabled = new Set(config.disabled_providers ?? [])
    const enabled = config.enabled_providers ? new Set(config.enabled_providers) : undefined
    return [...new Set([...Object.keys(config.provider ?? {}), ...CATALOGUE.keys()])].filter(
      (providerID) => !disabled.has(providerID) && (!enabled || enabled.has(providerID)),
    )
  }

  /** A provider's settings (the catalogue's under the config's) and how it is reached, before its models are listed. */
  async function access(ports: Ports, ctx: Context, providerID: string) {
    const declared = ctx.config.provider?.[providerID]
    const settings = ConfigMerge.deep(CATALOGUE.get(providerID) ?? {}, declared ?? {}) as ProviderConfig
    const key = await credential(ports, providerID, settings, ctx.stored.has(providerID))
    const endpoint = typeof settings.options?.baseURL === "string" || declared?.api !== undefined
    return { providerID, declared, settings, key, connected: key !== undefined || (declared !== undefined && endpoint) }
  }

  function complete(ctx: Context, reached: Awaited<ReturnType<typeof access>>): ResolvedProvider {
    const { providerID, declared, settings, key, connected } = reached
    return { info: info(providerID, settings, key, ctx.stored.has(providerID), declared !== undefined), settings, key, connected }
  }

  async function resolveOne(ports: Ports, ctx: Context, providerID: string): Promise<ResolvedProvider> {
    return complete(ctx, await access(ports, ctx, providerID))
  }

  export async function resolve(ports: Ports, directory: string, config?: Config): Promise<ResolvedProvider[]> {
    const ctx = await context(ports, directory, config)
    return Promise.all(ids(ctx).map((providerID) => resolveOne(ports, ctx, providerID)))
  }

  /** `GET /provider`: every provider, the connected ones, and each one's preferred model. */
  export async function list(ports: Ports, directory: string): Promise<ProviderView> {
    const config = await Configs.get(ports, directory)
    const resolved = (await resolve(ports, directory, config)).sort((a, b) => (a.info.id < b.info.id ? -1 : a.info.id > b.info.id ? 1 : 0))
    const providers = resolved.map((provider) => provider.info)
    return {
      providers,
      default: defaults(providers, config),
      connected: resolved.filter((provider) => provider.connected).map((provider) => provider.info.id),
    }
  }

  /** `GET /config/providers`: the providers a turn can use now. */
  export async function available(ports: Ports, directory: string): Promise<ProviderView> {
    const view = await list(ports, directory)
    const providers = view.providers.filter((provider) => view.connected.includes(provider.id))
    return { ...view, providers, default: Object.fromEntries(Object.entries(view.default).filter(([id]) => view.connected.includes(id))) }
  }

  /** The provider and model `ref` names; 400 ProviderModelNotFoundError when either is unknown. */
  export async function model(ports: Ports, directory: string, ref: ModelRef, config?: Config): Promise<{ provider: ResolvedProvider; model: Model }> {
    const ctx = await context(ports, directory, config)
    const provider = ids(ctx).includes(ref.providerID) ? await resolveOne(ports, ctx, ref.providerID) : undefined
    const model = provider?.info.models[ref.modelID]
    if (!provider || !model) {
      const suggestions = provider ? Object.keys(provider.info.models).filter((id) => id.includes(ref.modelID) || ref.modelID.includes(id)) : []
      throw new ProviderModelNotFoundError({
        providerID: ref.providerID,
        modelID: ref.modelID,
        message: provider ? `Model not found: ${ref.providerID}/${ref.modelID}` : `Provider not found: ${ref.providerID}`,
        ...(suggestions.length ? { suggestions: suggestions.slice(0, 5) } : {}),
      })
    }
    return { provider, model }
  }

  /** The config's `model`, else the preferred model of the first connected provider, those the config declares first. */
  export async function defaultModel(ports: Ports, directory: string, config?: Config): Promise<ModelRef | undefined> {
    const ctx = await context(ports, directory, config)
    const configured = parseModelRef(ctx.config.model)
    if (configured) return configured
    for (const providerID of ids(ctx)) {
      const reached = await access(ports, ctx, providerID)
      if (!reached.connected) continue
      const model = sortModels(Object.values(complete(ctx, reached).info.models))[0]
      if (model) return { providerID, modelID: model.id }
    }
    return undefined
  }

  /** Every provider takes an API key through `PUT /auth/:providerID`; no OAuth flows exist here. */
  export async function authMethods(ports: Ports, directory: string): Promise<Record<string, ProviderAuthMethod[]>> {
    const ctx = await context(ports, directory)
    return Object.fromEntries(ids(ctx).sort().map((providerID) => [providerID, [{ type: "api" as const, label: "API key" }]]))
  }
}

async function credential(ports: Ports, providerID: string, settings: ProviderConfig, hasStored: boolean): Promise<string | undefined> {
  const configured = settings.options?.apiKey
  if (typeof configured === "string" && configured) return configured
  if (hasStored) {
    const auth = await Credentials.get(ports, providerID)
    if (auth && auth.type === "api") return auth.key
    if (auth && auth.type === "oauth") return auth.access
    if (auth && auth.type === "wellknown") return auth.token
  }
  for (const name of settings.env ?? []) {
    const value = ports.env(name)
    if (value) return value
  }
  return undefined
}

function info(providerID: string, settings: ProviderConfig, key: string | undefined, stored: boolean, declared: boolean): Provider {
  const { apiKey: _hidden, ...options } = settings.options ?? {}
  const models: Record<string, Model> = {}
  for (const [id, model] of Object.entries(settings.models ?? {})) {
    if (settings.whitelist && !settings.whitelist.includes(id)) continue
    if (settings.blacklist?.includes(id)) continue
    models[id] = toModel(providerID, settings, id, model)
  }
  const source = declared ? "config" : stored ? "api" : key !== undefined ? "env" : "custom"
  return { id: providerID, name: settings.name ?? providerID, source, env: settings.env ?? [], options, models }
}

function defaults(providers: Provider[], config: Config): Record<string, string> {
  const preferred = parseModelRef(config.model)
  const out: Record<string, string> = {}
  for (const provider of providers) {
    const chosen = preferred?.providerID === provider.id && provider.models[preferred.modelID] ? preferred.modelID : sortModels(Object.values(provider.models))[0]?.id
    if (chosen !== undefined) out[provider.id] = chosen
  }
  return out
}
