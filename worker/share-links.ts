import type { ShareLinks } from "../shared/ports.ts"
import type { Env } from "./env.ts"

/** The one RegistryObject, which also keeps share ids (its comment says why). */
export const registry = (env: Env) => env.REGISTRY.get(env.REGISTRY.idFromName("registry"))

/** A tenant's share links on the edge: ids in the registry, links at OPENCODE_SHARE_URL (else the request's origin) + `/s/<id>`. */
export function edgeShareLinks(env: Env, tenant: string): ShareLinks {
  return {
    async create(sessionID, origin) {
      const id = await registry(env).createShare(tenant, sessionID)
      const base = (env.OPENCODE_SHARE_URL || origin).replace(/\/+$/, "")
      return { url: `${base}/s/${id}` }
    },
    async remove(sessionID) {
      await registry(env).removeShare(tenant, sessionID)
    },
  }
}
