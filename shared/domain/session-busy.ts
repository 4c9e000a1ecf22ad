import { SessionBusyError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { Session } from "../schema/session.ts"

/** 409 SessionBusyError while a turn (or a shell command) runs in the session, for what upstream refuses then. */
export async function assertSessionIdle(ports: Ports, session: Session): Promise<void> {
  const status = (await ports.sessions.status(session.directory))[session.id]
  if (status && status.type !== "idle") {
    throw new SessionBusyError({ sessionID: session.id, message: `Session is busy: ${session.id}` })
  }
}
