import type { Project } from "../../shared/schema/project.ts"
import { StreamObject } from "./stream-object.ts"

/** One per tenant: the project registry, the message-id index and the /global/event stream. */
export class GlobalObject extends StreamObject {
  protected createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS project (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS message_index (message_id TEXT PRIMARY KEY, session_id TEXT NOT NULL);
    `)
  }

  listProjects(): Project[] {
    return this.sql
      .exec<{ data: string }>("SELECT data FROM project ORDER BY id")
      .toArray()
      .map((row) => JSON.parse(row.data) as Project)
  }

  findProject(projectID: string): Project | undefined {
    const row = this.sql.exec<{ data: string }>("SELECT data FROM project WHERE id = ?", projectID).toArray()[0]
    return row && (JSON.parse(row.data) as Project)
  }

  registerProject(project: Project): void {
    this.sql.exec("INSERT OR REPLACE INTO project (id, data) VALUES (?, ?)", project.id, JSON.stringify(project))
  }

  indexMessage(messageID: string, sessionID: string): void {
    this.sql.exec("INSERT OR REPLACE INTO message_index (message_id, session_id) VALUES (?, ?)", messageID, sessionID)
  }

  locateMessage(messageID: string): string | undefined {
    return this.sql
      .exec<{ session_id: string }>("SELECT session_id FROM message_index WHERE message_id = ?", messageID)
      .toArray()[0]?.session_id
  }

  forgetMessages(messageIDs: string[]): void {
    for (const messageID of messageIDs) this.sql.exec("DELETE FROM message_index WHERE message_id = ?", messageID)
  }
}
