import type { Project } from "../../shared/schema/project.ts"
import { StreamObject } from "./stream-object.ts"
import { MemoryControlQueue } from "../../shared/domain/tui-control.ts"
import { TooManyRequestsError } from "../../shared/error.ts"
import type { TuiRequest } from "../../shared/schema/tui.ts"
import { Leases, type LeaseKind, type LeaseResult } from "./leases.ts"
import { StoredSizes } from "./stored-size.ts"

/**
 * One per tenant: the project registry, the directories that hold sessions, the message-id index, the tenant's
 * named records and the /global/event stream.
 */
export class GlobalObject extends StreamObject {
  /**
   * The tenant's TUI control queue. In memory: one object per tenant serves every Worker instance, and a
   * caller's pending RPC keeps the object alive while it waits; requests do not survive an eviction.
   */
  private readonly tuiControl = new MemoryControlQueue()

  /** The TUI's answer, or why there is none (errors do not keep their class across RPC). */
  async tuiCall(request: TuiRequest, timeoutMs?: number): Promise<{ body: unknown } | { timeout: string } | { busy: string }> {
    try {
      return { body: await this.tuiControl.call(request, timeoutMs) }
    } catch (error) {
      const message = (error as Error).message
      return error instanceof TooManyRequestsError ? { busy: message } : { timeout: message }
    }
  }

  tuiNext(timeoutMs: number): Promise<TuiRequest | undefined> {
    return this.tuiControl.next(timeoutMs)
  }

  tuiRespond(body: unknown): Promise<boolean> {
    return this.tuiControl.respond(body)
  }

  protected createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS project (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS message_index (message_id TEXT PRIMARY KEY, session_id TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS session_directory (directory TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS record (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      ${Leases.TABLE}
      ${StoredSizes.TABLE}
    `)
  }

  /** The tenant's limits on the edge: leases of its streams, turns and terminals (worker/limits/). */
  private get leases(): Leases {
    return new Leases(this.sql)
  }

  acquireLease(kind: LeaseKind, id: string, limit: number, ttlMs?: number): LeaseResult {
    return this.leases.acquire(kind, id, limit, ttlMs)
  }

  renewLease(kind: LeaseKind, id: string, ttlMs?: number): void {
    this.leases.renew(kind, id, ttlMs)
  }

  releaseLease(kind: LeaseKind, id: string): void {
    this.leases.release(kind, id)
  }

  heldLeases(kind: LeaseKind): string[] {
    return this.leases.held(kind)
  }

  recordStoredBytes(object: string, bytes: number): void {
    new StoredSizes(this.sql).record(object, bytes)
  }

  /** What the tenant stores: its other objects as they last reported, and this one as it is. */
  storedBytes(): number {
    return new StoredSizes(this.sql).total() + this.ctx.storage.sql.databaseSize
  }

  /** This object's size is read live by storedBytes. */
  protected override storedSizeChanged(): void {}

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

  registerSessionDirectory(directory: string): void {
    this.sql.exec("INSERT OR IGNORE INTO session_directory (directory) VALUES (?)", directory)
  }

  listSessionDirectories(): string[] {
    return this.sql
      .exec<{ directory: string }>("SELECT directory FROM session_directory ORDER BY directory")
      .toArray()
      .map((row) => row.directory)
  }

  indexMessage(messageID: string, sessionID: string): void {
    this.sql.exec("INSERT OR REPLACE INTO message_index (message_id, session_id) VALUES (?, ?)", messageID, sessionID)
  }

  locateMessage(messageID: string): string | undefined {
    return this.sql
      .exec<{ session_id: string }>("SELECT session_id FROM message_index WHERE message_id = ?", messageID)
      .toArray()[0]?.session_id
  }

  getRecord(key: string): unknown {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM record WHERE key = ?", key).toArray()[0]
    return row === undefined ? undefined : JSON.parse(row.value)
  }

  putRecord(key: string, value: unknown): void {
    this.sql.exec("INSERT OR REPLACE INTO record (key, value) VALUES (?, ?)", key, JSON.stringify(value))
  }

  deleteRecord(key: string): boolean {
    return this.sql.exec("DELETE FROM record WHERE key = ?", key).rowsWritten > 0
  }

  /** Compare-and-swap on the stored JSON text; atomic because it runs without awaiting (the object's input gate). */
  swapRecord(key: string, expected: unknown, next: unknown): boolean {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM record WHERE key = ?", key).toArray()[0]
    if (row?.value !== (expected === undefined ? undefined : JSON.stringify(expected))) return false
    this.putRecord(key, next)
    return true
  }

  listRecords(prefix: string): [string, unknown][] {
    return this.sql
      .exec<{ key: string; value: string }>("SELECT key, value FROM record WHERE substr(key, 1, ?) = ? ORDER BY key", prefix.length, prefix)
      .toArray()
      .map((row) => [row.key, JSON.parse(row.value)])
  }

  forgetMessages(messageIDs: string[]): void {
    for (const messageID of messageIDs) this.sql.exec("DELETE FROM message_index WHERE message_id = ?", messageID)
  }
}
