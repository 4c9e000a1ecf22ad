import type { Ports } from "../ports.ts"
import type { Todo } from "../schema/app-info.ts"
import { Bus } from "./bus.ts"

/**
 * A session's todo list (records `todo/<sessionID>`); empty until the todowrite tool writes it (publishing
 * todo.updated). It lives and dies with its session: Sessions.remove deletes it, so callers check the session exists.
 */
export namespace Todos {
  export const key = (sessionID: string) => `todo/${sessionID}`

  export async function get(ports: Ports, sessionID: string): Promise<Todo[]> {
    const stored = await ports.records.get<unknown>(key(sessionID))
    return Array.isArray(stored) ? (stored as Todo[]) : []
  }

  export async function update(ports: Ports, directory: string, sessionID: string, todos: Todo[]): Promise<void> {
    await ports.records.put(key(sessionID), todos)
    await Bus.publish(ports, directory, "todo.updated", { sessionID, todos })
  }

  export async function remove(ports: Ports, sessionID: string): Promise<void> {
    await ports.records.delete(key(sessionID))
  }
}
