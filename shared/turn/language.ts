import { createAnthropic } from "@ai-sdk/anthropic"
import { createOpenAI } from "@ai-sdk/openai"
import { createOpenAICompatible } from "@ai-sdk/openai-compatible"
import type { LanguageModel } from "ai"
import { ProviderAuthError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { ResolvedProvider } from "../provider/provider.ts"
import type { Model } from "../schema/config.ts"

/**
 * The AI SDK model for a provider's model. Anthropic and OpenAI need a key; an OpenAI-compatible endpoint
 * (Ollama, LM Studio, vLLM...) may take none. Requests go out through the runtime's fetch port.
 */
export function languageModel(ports: Ports, provider: ResolvedProvider, model: Model): LanguageModel {
  // A provider instance builds its response schemas when made: one per runtime and settings is reused.
  const key = JSON.stringify([provider.info.id, provider.settings.options, provider.settings.api, provider.key, model.api, model.headers])
  const cache = made.get(ports) ?? new Map<string, LanguageModel>()
  made.set(ports, cache)
  const cached = cache.get(key)
  if (cached) return cached
  const created = create(ports, provider, model)
  if (cache.size >= MAX_CACHED_MODELS) cache.delete(cache.keys().next().value!)
  cache.set(key, created)
  return created
}

const MAX_CACHED_MODELS = 32
const made = new WeakMap<Ports, Map<string, LanguageModel>>()

function create(ports: Ports, provider: ResolvedProvider, model: Model): LanguageModel {
  const options = provider.settings.options ?? {}
  const baseURL = (typeof options.baseURL === "string" && options.baseURL) || model.api.url || provider.settings.api || undefined
  const headers = { ...(options.headers as Record<string, string> | undefined), ...model.headers }
  const common = { apiKey: provider.key, headers, fetch: ports.fetch }
  const needsKey = () => {
    if (provider.key === undefined) {
      throw new ProviderAuthError({
        providerID: provider.info.id,
        message: `No API key for ${provider.info.name}: set ${provider.info.env.join(" or ") || "one"}, store one with PUT /auth/${provider.info.id}, or put options.apiKey in the config`,
      })
    }
  }
  switch (model.api.npm) {
    case "@ai-sdk/anthropic":
      needsKey()
      return createAnthropic({ ...common, ...(baseURL ? { baseURL } : {}) })(model.api.id)
    case "@ai-sdk/openai":
      needsKey()
      return createOpenAI({ ...common, ...(baseURL ? { baseURL } : {}) }).responses(model.api.id)
    default:
      if (!baseURL) {
        throw new ProviderAuthError({ providerID: provider.info.id, message: `Provider ${provider.info.id} has no endpoint: set options.baseURL in its config` })
      }
      return createOpenAICompatible({ ...common, name: provider.info.id, baseURL, includeUsage: true }).chatModel(model.api.id)
  }
}
