import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError, NotFoundError } from "../error.ts"
import { Records } from "./records.ts"
import type { Auth, Config } from "../schema/config.ts"

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
  async get(ports: Ports, _directory?: string): Promise<Config> {
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

  /** The stored credentials of a provider, unsealed, for calling it; never for a route's answer. */
  async get(ports: Ports, providerID: string): Promise<Auth | undefined> {
    const record = await ports.records.get<SealedRecord>(AUTH_PREFIX + providerID)
    return record && (JSON.parse(await ports.sealer.open(record.sealed)) as Auth)
  },

  /** Provider ids with stored credentials (the credentials themselves stay sealed). */
  async connected(ports: Ports): Promise<string[]> {
    const entries = await ports.records.list<SealedRecord>(AUTH_PREFIX)
    return entries.map(([key]) => key.slice(AUTH_PREFIX.length))
  },
}
