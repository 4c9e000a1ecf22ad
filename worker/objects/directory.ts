import { titleMatches } from "../../shared/domain/session-filter.ts"
import type { SessionFilter } from "../../shared/ports.ts"
import type { Project } from "../../shared/schema/project.ts"
import type { Session, SessionStatus } from "../../shared/schema/session.ts"
import { StreamObject } from "./stream-object.ts"

const UPDATED = "json_extract(data, '$.time.updated')"

/** One directory: its session index, session statuses, the project record (when it is a worktree) and its event stream. */
export class DirectoryObject extends StreamObject {
  protected createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS session_index (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS session_by_update ON session_index (${UPDATED} DESC, id);
      CREATE TABLE IF NOT EXISTS session_status (session_id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS project (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
    `)
  }

  /**
   * Newest first (session ids are descending), in id order so SQLite stops at the limit. Parent and update time are
   * tested in SQL and the title against the search in JS (any case, as the local store does); only the sessions
   * kept are parsed and sent back.
   */
  listSessions(filter: SessionFilter = {}): Session[] {
    const found: Session[] = []
    if (filter.limit === 0) return found
    // By update time the session_by_update index gives the order: read forwards for "desc", backwards for "asc".
    const order = !filter.byUpdate ? "id" : filter.byUpdate === "desc" ? `${UPDATED} DESC, id` : `${UPDATED}, id DESC`
    // Without a search, SQLite skips and stops by itself; with one, the title is tested here first.
    const rows = this.sql.exec<{ title: string; data: string }>(
      `SELECT json_extract(data, '$.title') AS title, data FROM session_index
       WHERE (?1 = 0 OR json_extract(data, '$.parentID') IS NULL) AND (?2 IS NULL OR ${UPDATED} >= ?2)
       ORDER BY ${order} LIMIT ?3 OFFSET ?4`,
      filter.roots ? 1 : 0,
      filter.start ?? null,
      filter.search ? -1 : (filter.limit ?? -1),
      filter.search ? 0 : (filter.offset ?? 0),
    )
    let skip = filter.search ? (filter.offset ?? 0) : 0
    for (const row of rows) {
      if (!titleMatches(row.title, filter.search)) continue
      if (skip > 0) skip--
      else if (found.push(JSON.parse(row.data) as Session) === filter.limit) break
    }
    return found
  }

  /** True when the session is new to the directory. */
  indexSession(session: Session): boolean {
    const known = this.sql.exec("SELECT 1 FROM session_index WHERE id = ?", session.id).toArray().length > 0
    this.sql.exec("INSERT OR REPLACE INTO session_index (id, data) VALUES (?, ?)", session.id, JSON.stringify(session))
    return !known
  }

  unindexSession(sessionID: string): void {
    this.sql.exec("DELETE FROM session_index WHERE id = ?", sessionID)
    this.sql.exec("DELETE FROM session_status WHERE session_id = ?", sessionID)
  }

  statuses(): Record<string, SessionStatus> {
    const rows = this.sql.exec<{ session_id: string; data: string }>("SELECT session_id, data FROM session_status").toArray()
    return Object.fromEntries(rows.map((row) => [row.session_id, JSON.parse(row.data) as SessionStatus]))
  }

  setStatus(sessionID: string, status: SessionStatus): void {
    if (status.type === "idle") this.sql.exec("DELETE FROM session_status WHERE session_id = ?", sessionID)
    else this.sql.exec("INSERT OR REPLACE INTO session_status (session_id, data) VALUES (?, ?)", sessionID, JSON.stringify(status))
  }

  getProject(): Project | undefined {
    const row = this.sql.exec<{ data: string }>("SELECT data FROM project WHERE id = 1").toArray()[0]
    return row && (JSON.parse(row.data) as Project)
  }

  putProject(project: Project): void {
    this.sql.exec("INSERT OR REPLACE INTO project (id, data) VALUES (1, ?)", JSON.stringify(project))
  }
}
