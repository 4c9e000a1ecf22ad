import type { Model, ProviderConfig, ProviderModelConfig } from "../schema/config.ts"

const MODALITIES = ["text", "audio", "image", "video", "pdf"] as const

function modalities(list: readonly string[] | undefined, fallback: readonly string[]) {
  const present = new Set(list ?? fallback)
  return Object.fromEntries(MODALITIES.map((name) => [name, present.has(name)])) as Record<(typeof MODALITIES)[number], boolean>
}

/** A provider's model entry (catalogue or config, upstream's config shape) as the `Model` the routes answer with. */
export function toModel(providerID: string, provider: ProviderConfig, key: string, model: ProviderModelConfig): Model {
  const id = model.id ?? key
  const interleaved = model.interleaved
  return {
    id: key,
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

/** Upstream's preference among a provider's models: these families first (later ones higher), "latest", then id descending. */
const PRIORITY = ["gpt-5", "claude-sonnet-4", "big-pickle", "gemini-3-pro"]

export function sortModels(models: Model[]): Model[] {
  const rank = (model: Model) => PRIORITY.findIndex((family) => model.id.includes(family))
  return [...models].sort(
    (a, b) =>
      rank(b) - rank(a) ||
      Number(b.id.includes("latest")) - Number(a.id.includes("latest")) ||
      (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  )
}
