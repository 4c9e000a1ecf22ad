import { SharingNeedsPairingError } from "../shared/domain/share.ts"
import type { ShareLinks } from "../shared/ports.ts"

const HOW_TO_PAIR =
  "Share links are served by an edge, and this server shares through the edge it is paired with; sharing from " +
  "the local server is not built yet. Pair this machine with `npm run agent -- pair --edge <url>`, connect it with " +
  "`npm run agent -- connect`, and share the session from the edge (POST /session/:id/share there)."

/** The local server's share links: none of its own (an edge serves them), so it says how to get one. */
export const unpairedShareLinks: ShareLinks = {
  create: async () => {
    throw new SharingNeedsPairingError({ message: HOW_TO_PAIR })
  },
  remove: async () => {
    throw new SharingNeedsPairingError({ message: HOW_TO_PAIR })
  },
}
