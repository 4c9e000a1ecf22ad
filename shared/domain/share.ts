import { z } from "zod"
import { defineError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { Session } from "../schema/session.ts"
import type { ShareData } from "../schema/share.ts"
import { Configs } from "./config.ts"
import { Sessions } from "./session.ts"
import { shareData } from "../share/view.ts"

/**
 * A server that cannot make share links itself (the local server: links are served by an edge) and is not
 * paired with an edge. 409: the request is fine, this server's state is what is missing.
 */
export const SharingNeedsPairingError = defineError("SharingNeedsPairingError", z.object({ message: z.string() }), 409)

/** The edge that serves this server's links could not be reached or refused (502: the fault is upstream of us). */
export const SharingEdgeError = defineError("SharingEdgeError", z.object({ message: z.string(), status: z.number() }), 502)

/** The config says `share: "disabled"` (or OPENCODE_DISABLE_SHARE is set). */
export const SharingDisabledError = defineError("SharingDisabledError", z.object({ message: z.string() }), 403)

const isSet = (value: string | undefined) => value === "1" || value?.toLowerCase() === "true"

export namespace Sharing {
  /** Gives the session a new share link (`share.url`) and tells subscribers; an earlier link dies. */
  export async function share(ports: Ports, sessionID: string, origin: string): Promise<Session> {
    const session = await Sessions.get(ports, sessionID)
    if ((await mode(ports, session.directory)) === "disabled") {
      throw new SharingDisabledError({ message: 'Sharing is disabled by this server\'s config (share: "disabled")' })
    }
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

  /**
   * `share: "auto"` shares each new top-level session, as upstream: in the background, so creating the session
   * never waits on (or fails with) the link; the link arrives in `session.updated`.
   */
  export function shareIfAuto(ports: Ports, session: Session, origin: string): void {
    if (session.parentID) return
    ports.background(
      mode(ports, session.directory)
        .then((mode) => (mode === "auto" ? share(ports, session.id, origin) : undefined))
        .catch((error) => ports.log.warn("Automatic share failed", { sessionID: session.id, error: String(error) })),
    )
  }

  /** The session as a share shows it, in upstream's share data shape: the session, then each message followed by its parts. */
  export async function data(ports: Ports, sessionID: string): Promise<ShareData> {
    return shareData(await Sessions.get(ports, sessionID), await ports.sessions.messages(sessionID, {}))
  }

  /** `share` from the config, with upstream's flags on top (OPENCODE_DISABLE_SHARE, OPENCODE_AUTO_SHARE) and its older `autoshare`. */
  async function mode(ports: Ports, directory: string): Promise<"manual" | "auto" | "disabled"> {
    if (isSet(ports.env("OPENCODE_DISABLE_SHARE"))) return "disabled"
    const config = await Configs.get(ports, directory)
    if (config.share) return config.share
    return config.autoshare || isSet(ports.env("OPENCODE_AUTO_SHARE")) ? "auto" : "manual"
  }
}
