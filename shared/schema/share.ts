import { z } from "zod"
import { Message, Part } from "./message.ts"
import { Session } from "./session.ts"

/**
 * A shared session as upstream's share service answers `GET /api/share/:id/data`: a list of `{type, data}`
 * items. Upstream also has `session_diff` and `model` items; this server takes no snapshots, so it sends none.
 * A local server syncs its shared sessions to the edge in the same items.
 */
export const ShareDataItem = z.discriminatedUnion("type", [
  z.object({ type: z.literal("session"), data: Session }),
  z.object({ type: z.literal("message"), data: Message }),
  z.object({ type: z.literal("part"), data: Part }),
])
export type ShareDataItem = z.infer<typeof ShareDataItem>
export const ShareData = z.array(ShareDataItem).meta({ ref: "ShareData" })
export type ShareData = z.infer<typeof ShareData>
