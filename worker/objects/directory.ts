import type { SessionFilter } from "../../shared/ports.ts"
import type { Project } from "../../shared/schema/project.ts"
import type { Session, SessionStatus } from "../../shared/schema/session.ts"
import { StreamObject } from "./stream-object.ts"

const UPDATED = "json_extract(data, '$.time.updated')"
const TITLE = "json_extract(data, '$.title')"
/** Up to this many titles that can match a search are read through the trigram table, sorted and paged. */
const FEW_CANDIDATES = 200

/** One directory: its session index, session statuses, the project record (when it is a worktree) and its event stream. */
export class DirectoryObject extends StreamObject {
  protected createTables(): void {
    const titlesIndexed = this.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'session_title'").toArray().length > 0
    // session_title holds each indexed session's title under the same rowid, by trigram, so that a search reads
    // only the titles that can match rather than every session.
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS session_index (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS session_by_update ON session_index (${UPDATED} DESC, id);
      CREATE VIRTUAL TABLE IF NOT EXISTS session_title USING fts5 (title, tokenize = 'trigram');
      CREATE TABLE IF NOT EXISTS session_status (session_id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS project (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
    `)
    // A directory whose sessions were indexed before their titles were.
    if (!titlesIndexed) this.sql.exec(`INSERT INTO session_title (rowid, title) SELECT rowid, ${TITLE} FROM session_index`)
  }

  /**
   * Newest first (session ids are descending) or by update time, in SQL so SQLite stops at the limit. A search is
   * upstream's own test, `title LIKE '%' || search || '%'`. When few titles can match, the trigram table finds them
   * (its LIKE folds more than ASCII case, so it finds a superset) and the same LIKE on the stored title keeps the
   * matches; when many can, matches are dense and the ordered walk meets a page's worth early.
   */
  listSessions(filter: SessionFilter = {}): Session[] {
    if (filter.limit === 0) return []
    // By update time the session_by_update index gives the order: read forwards for "desc", backwards for "asc".
    const order = !filter.byUpdate ? "id" : filter.byUpdate === "desc" ? `${UPDATED} DESC, id` : `${UPDATED}, id DESC`
    const where = `(?1 = 0 OR json_extract(data, '$.parentID') IS NULL) AND (?2 IS NULL OR ${UPDATED} >= ?2) AND (?5 IS NULL OR ${TITLE} LIKE ?5)`
    const pattern = filter.search ? `%${filter.search}%` : null
    const bindings = [filter.roots ? 1 : 0, filter.start ?? null, filter.limit ?? -1, filter.offset ?? 0, pattern]
    const few = pattern !== null && this.sql.exec("SELECT rowid FROM session_title WHERE title LIKE ? LIMIT ?", pattern, FEW_CANDIDATES + 1).toArray().length <= FEW_CANDIDATES
    const rows = few
      ? // CROSS JOIN keeps the trigram table outermost: SQLite would otherwise walk every session in order.
        this.sql.exec<{ data: string }>(
          `SELECT data FROM session_title CROSS JOIN session_index ON session_index.rowid = session_title.rowid
           WHERE session_title.title LIKE ?5 AND ${where} ORDER BY ${order} LIMIT ?3 OFFSET ?4`,
          ...bindings,
        )
      : this.sql.exec<{ data: string }>(`SELECT data FROM session_index WHERE ${where} ORDER BY ${order} LIMIT ?3 OFFSET ?4`, ...bindings)
    return rows.toArray().map((row) => JSON.parse(row.data) as Session)
  }

  /** True when the session is new to the directory. */
  indexSession(session: Session): boolean {
    const data = JSON.stringify(session)
    const known = this.sql.exec<{ rowid: number; title: string }>(`SELECT rowid, ${TITLE} AS title FROM session_index WHERE id = ?`, session.id).toArray()[0]
    if (!known) {
      const { rowid } = this.sql.exec<{ rowid: number }>("INSERT INTO session_index (id, data) VALUES (?, ?) RETURNING rowid", session.id, data).one()
      this.sql.exec("INSERT INTO session_title (rowid, title) VALUES (?, ?)", rowid, session.title)
      return true
    }
    this.sql.exec("UPDATE session_index SET data = ? WHERE rowid = ?", data, known.rowid)
    if (known.title !== session.title) this.sql.exec("UPDATE session_title SET title = ? WHERE rowid = ?", session.title, known.rowid)
    return false
  }

  unindexSession(sessionID: string): void {
    this.sql.exec("DELETE FROM session_title WHERE rowid = (SELECT rowid FROM session_index WHERE id = ?)", sessionID)
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
