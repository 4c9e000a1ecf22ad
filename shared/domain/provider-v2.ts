import type { Model, ModelV2Info, Provider, ProviderV2Info } from "../schema/config.ts"

/** The providers and models of `GET /provider` in the v2 shapes `/api/provider` and `/api/model` answer with. */
export namespace ProviderV2 {
  /** The package a configured provider's models load (each model names one; the OpenAI-compatible one otherwise). */
  function packageOf(provider: Provider): string {
    return Object.values(provider.models)[0]?.api.npm ?? "@ai-sdk/openai-compatible"
  }

  export function provider(provider: Provider): ProviderV2Info {
    const url = typeof provider.options.baseURL === "string" ? provider.options.baseURL : undefined
    return {
      id: provider.id,
      name: provider.name,
      api: { type: "aisdk", package: packageOf(provider), ...(url ? { url } : {}), settings: provider.options },
      request: { headers: {}, body: {} },
    }
  }

  const present = (modalities: Record<string, boolean>) => Object.keys(modalities).filter((name) => modalities[name])

  export function model(model: Model): ModelV2Info {
    const released = Date.parse(model.release_date)
    return {
      id: model.id,
      providerID: model.providerID,
      ...(model.family ? { family: model.family } : {}),
      name: model.name,
      api: { id: model.api.id, type: "aisdk", package: model.api.npm, ...(model.api.url ? { url: model.api.url } : {}) },
      capabilities: { tools: model.capabilities.toolcall, input: present(model.capabilities.input), output: present(model.capabilities.output) },
      request: { headers: model.headers, body: model.options },
      variants: Object.entries(model.variants ?? {}).map(([id, body]) => ({ id, headers: {}, body })),
      time: { released: Number.isNaN(released) ? 0 : released },
      cost: [{ input: model.cost.input, output: model.cost.output, cache: model.cost.cache }],
      status: model.status,
      enabled: true,
      limit: model.limit,
    }
  }
}
