import { BadRequestError, NotFoundError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { Part } from "../schema/message.ts"
import { Bus } from "./bus.ts"
import { assertSessionIdle } from "./session-busy.ts"
import { Sessions } from "./session.ts"

/**
 * Editing a session's history, as upstream allows it: a whole message goes only while the session is idle (a
 * turn reads the history it would lose), a part may be changed or removed at any time. Removing what is not
 * there succeeds and is announced all the same, as upstream.
 */
export namespace MessageEdits {
  export async function removeMessage(ports: Ports, sessionID: string, messageID: string): Promise<void> {
    const session = await Sessions.get(ports, sessionID)
    await assertSessionIdle(ports, session)
    await ports.sessions.removeMessage(sessionID, messageID)
    await Bus.publish(ports, session.directory, "message.removed", { sessionID, messageID })
  }

  /** Stores `part` in place of the part with its id (added when the message has none); the ids must match the route's. */
  export async function updatePart(ports: Ports, route: { sessionID: string; messageID: string; partID: string }, part: Part): Promise<Part> {
    if (part.id !== route.partID || part.messageID !== route.messageID || part.sessionID !== route.sessionID) {
      throw new BadRequestError({ message: "The part's id, messageID and sessionID must be the ones of the route", kind: "Body" })
    }
    const session = await Sessions.get(ports, route.sessionID)
    const message = await ports.sessions.message(route.sessionID, route.messageID)
    if (!message) throw new NotFoundError({ message: `Message not found: ${route.messageID}` })
    await ports.sessions.putMessage(message.info, [part])
    await Bus.publish(ports, session.directory, "message.part.updated", { sessionID: session.id, part, time: ports.clock.now() })
    return part
  }

  export async function removePart(ports: Ports, sessionID: string, messageID: string, partID: string): Promise<void> {
    const session = await Sessions.get(ports, sessionID)
    await ports.sessions.removePart(sessionID, messageID, partID)
    await Bus.publish(ports, session.directory, "message.part.removed", { sessionID, messageID, partID })
  }
}
