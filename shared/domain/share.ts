import { z } from "zod"
import { defineError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { Session } from "../schema/session.ts"
import type { ShareData } from "../schema/share.ts"
import { Sessions } from "./session.ts"

/**
 * A server that cannot make share links itself (the local server: links are served by an edge) and is not
 * paired with an edge. 409: the request is fine, this server's state is what is missing.
 */
export const SharingNeedsPairingError = defineError("SharingNeedsPairingError", z.object({ message: z.string() }), 409)

export namespace Sharing {
  /** Gives the session a new share link (`share.url`) and tells subscribers; an earlier link dies. */
  export async function share(ports: Ports, sessionID: string, origin: string): Promise<Session> {
    const session = await Sessions.get(ports, sessionID)
    const share = await ports.shareLinks.create(session.id, origin)
    const next: Session = { ...session, share }
    await Sessions.save(ports, next)
    return next
  }

  /** Kills the session's link first (so no visitor reads it after this answers), then clears `share`. */
  export async function unshare(ports: Ports, sessionID: string): Promise<Session> {
    const session = await Sessions.get(ports, sessionID)
    await ports.shareLinks.remove(session.id)
    const { share: _dropped, ...next } = session
    await Sessions.save(ports, next)
    return next
  }

  /** What a share link shows, in upstream's share data shape: the session, then each message followed by its parts. */
  export async function data(ports: Ports, sessionID: string): Promise<ShareData> {
    const session = await Sessions.get(ports, sessionID)
    const items: ShareData = [{ type: "session", data: session }]
    for (const { info, parts } of await ports.sessions.messages(sessionID, {})) {
      items.push({ type: "message", data: info })
      for (const part of parts) items.push({ type: "part", data: part })
    }
    return items
  }
}
