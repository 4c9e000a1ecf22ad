import type { Config } from "../schema/config.ts"

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export namespace ConfigMerge {
  /** Objects merge key by key, recursively; anything else (arrays included) in `patch` replaces. */
  export function deep(base: unknown, patch: unknown): unknown {
    if (!isObject(base) || !isObject(patch)) return patch
    const out: Record<string, unknown> = { ...base }
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue
      out[key] = key in base ? deep(base[key], value) : value
    }
    return out
  }

  /**
   * One config layer over another, as upstream merges its sources: `deep`, except that `instructions` lists
   * add up (each entry once), so a project's instructions come on top of the user's global ones.
   */
  export function layer(base: Config, top: Config): Config {
    const merged = deep(base, top) as Config
    if (base.instructions && top.instructions) merged.instructions = [...new Set([...base.instructions, ...top.instructions])]
    return merged
  }
}
