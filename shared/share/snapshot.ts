import type { Message, Part } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"

/** One message of a shared session with its parts, as the share page renders it. */
export interface ShareMessage {
  info: Message
  parts: Part[]
}

/** Everything the share page shows: the session, its messages in ascending id order, and whether it is working. */
export interface ShareSnapshot {
  session: Session
  messages: ShareMessage[]
  busy: boolean
}
