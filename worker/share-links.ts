import type { ShareLinks } from "../shared/ports.ts"
import type { Env } from "./env.ts"
import type { Objects } from "./objects.ts"
import { newShareID, sha256 } from "./secrets.ts"

/** Share ids are 16 random bytes in base64url; anything else is not looked up at all. */
export const SHARE_ID = /^[A-Za-z0-9_-]{22}$/

/** A share id's object. Named by the id's hash, so no store or log of the edge holds a live link in the clear. */
export async function shareObjectName(shareID: string): Promise<string> {
  return `share:${await sha256(shareID)}`
}

/** Where links point: OPENCODE_SHARE_URL, else the origin the share was asked at, then `/s/<id>`. */
export function shareURL(env: Env, origin: string, shareID: string): string {
  return `${(env.OPENCODE_SHARE_URL || origin).replace(/\/+$/, "")}/s/${shareID}`
}

/** A tenant's share links on the edge: each is a ShareObject fed by the session's own object. */
export function edgeShareLinks(env: Env, tenant: string, objects: Objects): ShareLinks {
  return {
    async create(sessionID, origin) {
      const id = newShareID()
      await objects.session(sessionID).startSharing(tenant, await shareObjectName(id))
      return { url: shareURL(env, origin, id) }
    },
    async remove(sessionID) {
      await objects.session(sessionID).stopSharing()
    },
  }
}
