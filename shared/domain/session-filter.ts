import { Identifier } from "../id.ts"
import type { SessionFilter } from "../ports.ts"
import type { Session } from "../schema/session.ts"

/** The filter's tests on a session other than its title (stores test the title apart, see title-search.ts). */
export function passesFilter(session: Pick<Session, "parentID" | "time">, filter: SessionFilter): boolean {
  return (!filter.roots || !session.parentID) && (filter.start === undefined || session.time.updated >= filter.start)
}

/** Most recently updated first; session ids descend with time, so a tie in `updated` keeps creation order too. */
export const newestFirst = (a: Session, b: Session) => b.time.updated - a.time.updated || Identifier.byId(a, b)
