import { Config } from "../schema/config.ts"
import { ConfigInvalidError } from "./errors.ts"
import { parseJsonc } from "./jsonc.ts"
import { parseMarkdown } from "./markdown.ts"
import { ConfigMerge } from "./merge.ts"
import type { ConfigSource } from "./source.ts"

/** Parsed layers kept by their source, so an unchanged file is not parsed again on every request. */
const MAX_CACHED = 256
const cache = new Map<string, Config>()

function validate(path: string, value: unknown): Config {
  const result = Config.safeParse(value)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment)),
    message: issue.message,
  }))
  const summary = issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")
  throw new ConfigInvalidError({ path, issues, message: `${path}: ${summary}` })
}

/** A source as the config layer it contributes: a JSON file's whole config, a markdown file's one agent or command. */
function layerOf(source: ConfigSource): Config {
  if (source.kind === "json") return validate(source.path, parseJsonc(source.path, source.text))
  const { options, body } = parseMarkdown(source.path, source.text)
  const name = source.name ?? ""
  if (source.kind === "agent") return validate(source.path, { agent: { [name]: { ...options, prompt: body } } })
  return validate(source.path, { command: { [name]: { ...options, template: body } } })
}

export namespace ConfigFiles {
  /**
   * One source's layer, validated; a broken file throws ConfigJsonError, ConfigFrontmatterError or
   * ConfigInvalidError naming it. Callers get their own copy: the cached one is shared.
   */
  export function layer(source: ConfigSource): Config {
    const key = JSON.stringify([source.kind, source.name, source.path, source.text])
    let parsed = cache.get(key)
    if (parsed) cache.delete(key)
    else parsed = layerOf(source)
    cache.set(key, parsed)
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!)
    return structuredClone(parsed)
  }

  /** The sources' layers merged in order (each over the ones before it). */
  export function merge(sources: ConfigSource[]): Config {
    return sources.map(layer).reduce(ConfigMerge.layer, {})
  }
}
