import type { SessionFilter } from "../ports.ts"
import type { Session } from "../schema/session.ts"

/** The filter's tests on a session other than its title (stores test the title apart, before reading the rest). */
export function passesFilter(session: Pick<Session, "parentID" | "time">, filter: SessionFilter): boolean {
  return (!filter.roots || !session.parentID) && (filter.start === undefined || session.time.updated >= filter.start)
}

/** Whether a title contains the filter's `search` (already lower-cased), in any case. */
export function titleMatches(title: string, search: string | undefined): boolean {
  return !search || title.toLowerCase().includes(search)
}

/** Most recently updated first; session ids descend with time, so a tie in `updated` keeps creation order too. */
export const newestFirst = (a: Session, b: Session) => b.time.updated - a.time.updated || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
