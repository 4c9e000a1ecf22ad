import type { Message, MessageWithParts, Part } from "../../shared/schema/message.ts"
import type { Session } from "../../shared/schema/session.ts"
import { AgentLoop } from "../../shared/turn/loop.ts"
import { createWorkerPorts } from "../ports.ts"
import type { Ports } from "../../shared/ports.ts"
import { shareData } from "../../shared/share/view.ts"
import type { ShareObject } from "./share.ts"
import { StreamObject } from "./stream-object.ts"
import { objectName } from "../names.ts"
import { TURN_LEASE_MS } from "../limits/config.ts"

/** While a turn runs, an alarm comes this often: it keeps the object alive and, after a restart, closes the turn. */
const TURN_WATCHDOG_MS = 15_000

/**
 * One session: its record, messages, parts and event stream, and its agent turns, which run here rather than in
 * the Worker request that asked for them. Named by tenant and session id.
 */
export class SessionObject extends StreamObject {
  protected createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS turn_owner (id INTEGER PRIMARY KEY CHECK (id = 1), tenant TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS session (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS message (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, data TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS part_by_message ON part (message_id, id);
      CREATE TABLE IF NOT EXISTS share_link (id INTEGER PRIMARY KEY CHECK (id = 1), object_name TEXT NOT NULL);
    `)
  }

  /** Calls to the session's share object, one at a time and in order: its view is built from them. */
  private shareQueue: Promise<void> = Promise.resolve()
  /** The frames of the call waiting in the queue: all that gather before it runs go with it. */
  private shareOutbox: { frames: string[] } | undefined

  /**
   * Shares the session through the ShareObject `objectName`: it starts from the session as it stands (read in
   * one synchronous step, so no event falls between the copy and the frames that follow it) and then gets every
   * frame of this session's stream. An earlier link is closed first.
   */
  async startSharing(tenant: string, objectName: string): Promise<void> {
    const session = this.getSession()
    if (!session) throw new Error("No session to share")
    const items = shareData(session, this.messages({}))
    const previous = this.shareObject()
    this.sql.exec("INSERT OR REPLACE INTO share_link (id, object_name) VALUES (1, ?)", objectName)
    // Frames so far are in the copy; a waiting call takes them to the earlier link, later ones go after `open`.
    this.shareOutbox = undefined
    const next = this.env.SHARES.getByName(objectName)
    await this.toShare(async () => {
      await previous?.close()
      await next.open({ tenant, sessionID: session.id }, items)
    })
  }

  /** Ends the session's link, for new visitors and open pages alike, before answering. */
  async stopSharing(): Promise<void> {
    const share = this.shareObject()
    this.sql.exec("DELETE FROM share_link")
    this.shareOutbox = undefined
    if (share) await this.toShare(() => share.close())
  }

  override append(data: string): void {
    super.append(data)
    const share = this.shareObject()
    if (!share) return
    if (this.shareOutbox) {
      this.shareOutbox.frames.push(data)
      return
    }
    const batch = { frames: [data] }
    this.shareOutbox = batch
    void this.toShare(() => {
      if (this.shareOutbox === batch) this.shareOutbox = undefined
      return share.receiveEvents(batch.frames)
    })
  }

  private shareObject(): DurableObjectStub<ShareObject> | undefined {
    const name = this.sql.exec<{ object_name: string }>("SELECT object_name FROM share_link WHERE id = 1").toArray()[0]?.object_name
    return name === undefined ? undefined : this.env.SHARES.getByName(name)
  }

  /** Queues a call; its caller sees its failure, and the calls after it still run. */
  private toShare<T>(call: () => Promise<T>): Promise<T> {
    const result = this.shareQueue.then(call)
    this.shareQueue = result.then(
      () => {},
      (error) => console.error(JSON.stringify({ level: "error", message: "share update failed", error: String(error) })),
    )
    return result
  }

  /** Runs (or joins) the session's turn and resolves with the assistant message that answers `userID`. */
  async runTurn(tenant: string, sessionID: string, userID: string): Promise<MessageWithParts> {
    this.sql.exec("INSERT OR REPLACE INTO turn_owner (id, tenant) VALUES (1, ?)", tenant)
    await this.ctx.storage.setAlarm(Date.now() + TURN_WATCHDOG_MS)
    await this.renewTurnLease(tenant, sessionID)
    try {
      return await AgentLoop.run(this.portsFor(tenant, sessionID), sessionID, userID)
    } finally {
      // The loop lets go of the session just after it answers its last prompt: look once that has happened.
      await new Promise((resolve) => setTimeout(resolve, 0))
      if (!AgentLoop.running(sessionID)) await this.tenantGlobal(tenant).releaseLease("turn", sessionID).catch(() => {})
    }
  }

  private tenantGlobal(tenant: string) {
    return this.env.GLOBAL.getByName(objectName(tenant, { kind: "global" }))
  }

  /** The tenant's count of running turns (worker/limits/) holds this session while its turn runs. */
  private renewTurnLease(tenant: string, sessionID: string): Promise<void> {
    return this.tenantGlobal(tenant)
      .renewLease("turn", sessionID, TURN_LEASE_MS)
      .catch(() => {})
  }

  abortTurn(sessionID: string): boolean {
    return AgentLoop.abort(sessionID)
  }

  /** The turn watchdog: re-armed while the turn runs; a turn that died with the object is closed with an error. */
  override async alarm(): Promise<void> {
    const tenant = this.sql.exec<{ tenant: string }>("SELECT tenant FROM turn_owner WHERE id = 1").toArray()[0]?.tenant
    const session = this.getSession()
    if (!tenant || !session) return
    if (AgentLoop.running(session.id)) {
      await this.ctx.storage.setAlarm(Date.now() + TURN_WATCHDOG_MS)
      await this.renewTurnLease(tenant, session.id)
      return
    }
    await AgentLoop.recover(this.portsFor(tenant, session.id), session.id)
    await this.tenantGlobal(tenant).releaseLease("turn", session.id).catch(() => {})
  }

  /**
   * The tenant's ports as seen from here: this session's own records and stream are reached directly. Made once
   * per object (its tenant and session never change), so what they keep between turns (model instances) lasts.
   */
  private portsFor(tenant: string, sessionID: string): Ports {
    this.ports ??= createWorkerPorts(this.env, tenant, { passwordAuth: false, host: { sessionID, object: this } })
    return this.ports
  }

  private ports: Ports | undefined

  getSession(): Session | undefined {
    const row = this.sql.exec<{ data: string }>("SELECT data FROM session WHERE id = 1").toArray()[0]
    return row && (JSON.parse(row.data) as Session)
  }

  putSession(session: Session): void {
    this.sql.exec("INSERT OR REPLACE INTO session (id, data) VALUES (1, ?)", JSON.stringify(session))
  }

  /** Stores a message and its parts atomically; true when the message is new. */
  putMessage(message: Message, parts: Part[]): boolean {
    return this.ctx.storage.transactionSync(() => {
      const isNew = this.sql.exec("SELECT 1 FROM message WHERE id = ?", message.id).toArray().length === 0
      this.sql.exec("INSERT OR REPLACE INTO message (id, data) VALUES (?, ?)", message.id, JSON.stringify(message))
      for (const part of parts) {
        this.sql.exec("INSERT OR REPLACE INTO part (id, message_id, data) VALUES (?, ?, ?)", part.id, message.id, JSON.stringify(part))
      }
      return isNew
    })
  }

  /** Deletes a message and its parts; true when it was there. */
  removeMessage(messageID: string): boolean {
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM part WHERE message_id = ?", messageID)
      return this.sql.exec("DELETE FROM message WHERE id = ?", messageID).rowsWritten > 0
    })
  }

  removePart(messageID: string, partID: string): void {
    this.sql.exec("DELETE FROM part WHERE id = ? AND message_id = ?", partID, messageID)
  }

  messages(query: { limit?: number; before?: string }): MessageWithParts[] {
    const before = query.before ?? "\uffff"
    const limit = query.limit ?? -1
    const rows = this.sql
      .exec<{ id: string; data: string }>(
        "SELECT id, data FROM (SELECT id, data FROM message WHERE id < ? ORDER BY id DESC LIMIT ?) ORDER BY id",
        before,
        limit,
      )
      .toArray()
    if (rows.length === 0) return []
    const parts = new Map<string, Part[]>()
    // The page is a contiguous range of ids, so its parts are one range of the (message_id, id) index: no IN list,
    // whose bound values SQLite on the edge caps at 100.
    for (const row of this.sql.exec<{ message_id: string; data: string }>(
      "SELECT message_id, data FROM part WHERE message_id >= ? AND message_id <= ? ORDER BY message_id, id",
      rows[0]!.id,
      rows.at(-1)!.id,
    )) {
      const list = parts.get(row.message_id) ?? []
      list.push(JSON.parse(row.data) as Part)
      parts.set(row.message_id, list)
    }
    return rows.map((row) => ({ info: JSON.parse(row.data) as Message, parts: parts.get(row.id) ?? [] }))
  }

  message(messageID: string): MessageWithParts | undefined {
    const row = this.sql.exec<{ data: string }>("SELECT data FROM message WHERE id = ?", messageID).toArray()[0]
    if (!row) return undefined
    const parts = this.sql
      .exec<{ data: string }>("SELECT data FROM part WHERE message_id = ? ORDER BY id", messageID)
      .toArray()
      .map((part) => JSON.parse(part.data) as Part)
    return { info: JSON.parse(row.data) as Message, parts }
  }

  /** Deletes everything and returns the ids of the messages that were deleted (for the global index). */
  async remove(): Promise<string[]> {
    const ids = this.sql.exec<{ id: string }>("SELECT id FROM message").toArray().map((row) => row.id)
    await this.wipe()
    return ids
  }

  /** The last frame of a deleted session's stream: delivered, then the stream is gone. */
  async appendFinal(data: string): Promise<void> {
    this.append(data)
    await this.wipe()
  }
}
