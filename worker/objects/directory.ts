import type { Project } from "../../shared/schema/project.ts"
import type { Session, SessionStatus } from "../../shared/schema/session.ts"
import { StreamObject } from "./stream-object.ts"

/** One directory: its session index, session statuses, the project record (when it is a worktree) and its event stream. */
export class DirectoryObject extends StreamObject {
  protected createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS session_index (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS session_status (session_id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS project (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
    `)
  }

  /** Newest first: session ids are descending. */
  listSessions(): Session[] {
    return this.sql
      .exec<{ data: string }>("SELECT data FROM session_index ORDER BY id")
      .toArray()
      .map((row) => JSON.parse(row.data) as Session)
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
