import type { Ports } from "../ports.ts"
import type { Todo } from "../schema/app-info.ts"
import { Sessions } from "./session.ts"

/** A session's todo list (records `todo/<sessionID>`); empty until something (the todowrite tool, later) writes it. */
export namespace Todos {
  export const key = (sessionID: string) => `todo/${sessionID}`

  /** 404 for an unknown session. */
  export async function get(ports: Ports, sessionID: string): Promise<Todo[]> {
    await Sessions.get(ports, sessionID)
    const stored = await ports.records.get<unknown>(key(sessionID))
    return Array.isArray(stored) ? (stored as Todo[]) : []
  }
}
