import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError, MachineUnavailableError } from "../error.ts"
import { Records } from "./records.ts"
import { ConfigFiles } from "../config/files.ts"
import { ConfigMerge } from "../config/merge.ts"
import type { Auth, Config } from "../schema/config.ts"

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

  /** Nothing stored is fine, as upstream: the app's "Disconnect" removes credentials a provider may never have had. */
  async remove(ports: Ports, providerID: string): Promise<void> {
    await ports.records.delete(AUTH_PREFIX + providerID)
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
