import type { Message, Part } from "../../shared/schema/message.ts"
import type { Session } from "../../shared/schema/session.ts"
import type { ShareData } from "../../shared/schema/share.ts"
import { SharePage } from "../../shared/share/render.ts"
import { ShareView, type ShareChange } from "../../shared/share/view.ts"
import { StreamObject } from "./stream-object.ts"

/** Viewers get a changed message at most this often (upstream's clients get a streaming part's updates every 100 ms). */
const FRAME_INTERVAL_MS = 100

/** Who a share belongs to. A share synced by a local server also has the hash of its per-share secret. */
export interface ShareOwner {
  tenant: string
  sessionID: string
  secretHash?: string
}

/** How a local server's sync or unshare went: a wrong secret is told apart from a link that is gone. */
export type ShareAccess = "ok" | "not-found" | "invalid-secret"

/**
 * One share link (named by the SHA-256 of its id): a copy of the shared session, the page rendered from it, and
 * the stream its viewers follow. Viewers never reach the session's own object: it sends each change here once,
 * and this object fans it out, so a popular link costs the session's owner nothing per viewer.
 */
export class ShareObject extends StreamObject {
  private view: ShareView | undefined
  private page: { url: string; html: string } | undefined
  /** What changed since the viewers' last frames. */
  private pending = { messages: new Set<string>(), removed: new Set<string>(), header: false }
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  private lastFlush = 0

  protected createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS share_owner (id INTEGER PRIMARY KEY CHECK (id = 1), tenant TEXT NOT NULL, session_id TEXT NOT NULL, secret_hash TEXT);
      CREATE TABLE IF NOT EXISTS share_session (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS share_message (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS share_part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, data TEXT NOT NULL);
    `)
    this.view = undefined
    this.page = undefined
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    this.pending = { messages: new Set(), removed: new Set(), header: false }
  }

  /** Starts the link with the session as it stands. */
  open(owner: ShareOwner, items: ShareData): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT OR REPLACE INTO share_owner (id, tenant, session_id, secret_hash) VALUES (1, ?, ?, ?)",
        owner.tenant,
        owner.sessionID,
        owner.secretHash ?? null,
      )
      const view = new ShareView()
      this.store(view, items.flatMap((item) => view.applyItem(item)))
      this.view = view
    })
  }

  /** The session's events, in order, as its object published them (JSON `{type, properties}` frames). */
  receiveEvents(frames: string[]): void {
    const view = this.loaded()
    if (!view) return
    const changes = frames.flatMap((frame) => view.applyEvent(JSON.parse(frame)))
    this.publish(view, changes)
  }

  /** A local server's sync: its items replace what they name; `replace` starts over from them (something was deleted). */
  sync(secretHash: string, items: ShareData, replace: boolean): ShareAccess {
    const access = this.access(secretHash)
    const view = this.loaded()
    if (access !== "ok" || !view) return access
    if (replace) {
      this.clearItems()
      view.clear()
      this.store(view, items.flatMap((item) => view.applyItem(item)))
      this.page = undefined
      this.append(JSON.stringify({ type: "share.reload" }))
    } else {
      this.publish(view, items.flatMap((item) => view.applyItem(item)))
    }
    return "ok"
  }

  /** Ends the link: open pages are told, then every trace of it goes. A local server's unshare must hold the secret. */
  async close(secretHash?: string): Promise<ShareAccess> {
    const access = secretHash === undefined ? (this.owner() ? "ok" : "not-found") : this.access(secretHash)
    if (access !== "ok") return access
    this.append(JSON.stringify({ type: "share.removed" }))
    await this.wipe()
    return "ok"
  }

  owner(): ShareOwner | undefined {
    const row = this.sql
      .exec<{ tenant: string; session_id: string; secret_hash: string | null }>("SELECT tenant, session_id, secret_hash FROM share_owner WHERE id = 1")
      .toArray()[0]
    return row && { tenant: row.tenant, sessionID: row.session_id, ...(row.secret_hash ? { secretHash: row.secret_hash } : {}) }
  }

  /** The shared session as JSON; undefined until the link has one (a local server's first sync is on its way). */
  data(): ShareData | undefined {
    return this.loaded()?.data()
  }

  /** The page, rendered once per change however many viewers load it. */
  async html(url: string, eventsPath: string): Promise<string | undefined> {
    const snapshot = this.loaded()?.snapshot()
    if (!snapshot) return undefined
    if (this.page?.url !== url) {
      this.page = { url, html: SharePage.document(snapshot, { url, eventsPath, lastEventId: this.lastEventId() }) }
    }
    return this.page.html
  }

  /** Viewers subscribe only while the link lives. */
  override async fetch(request: Request): Promise<Response> {
    if (!this.owner()) return new Response("No such share", { status: 404 })
    return super.fetch(request)
  }

  private access(secretHash: string): ShareAccess {
    const owner = this.owner()
    if (!owner) return "not-found"
    return owner.secretHash !== undefined && owner.secretHash === secretHash ? "ok" : "invalid-secret"
  }

  /** The view, read back from storage after the object was evicted; undefined when the link is not live. */
  private loaded(): ShareView | undefined {
    if (this.view) return this.view
    if (!this.owner()) return undefined
    const items: ShareData = []
    const session = this.sql.exec<{ data: string }>("SELECT data FROM share_session WHERE id = 1").toArray()[0]
    if (session) items.push({ type: "session", data: JSON.parse(session.data) as Session })
    for (const row of this.sql.exec<{ data: string }>("SELECT data FROM share_message")) items.push({ type: "message", data: JSON.parse(row.data) as Message })
    for (const row of this.sql.exec<{ data: string }>("SELECT data FROM share_part")) items.push({ type: "part", data: JSON.parse(row.data) as Part })
    this.view = ShareView.from(items)
    return this.view
  }

  /**
   * Stores what changed and marks it for the viewers. The page is re-rendered at its next load; viewers get the
   * changed messages at most every FRAME_INTERVAL_MS, each rendered once for all of them: a streamed reply
   * changes its message on every chunk, and each frame carries the whole message.
   */
  private publish(view: ShareView, changes: ShareChange[]): void {
    if (changes.length === 0) return
    this.store(view, changes)
    this.page = undefined
    for (const change of changes) {
      if (change.kind === "part" || change.kind === "part.removed") this.pending.messages.add(change.messageID)
      else if (change.kind === "message") {
        this.pending.messages.add(change.id)
        this.pending.header = true
      } else if (change.kind === "message.removed") {
        this.pending.messages.delete(change.id)
        this.pending.removed.add(change.id)
        this.pending.header = true
      } else this.pending.header = true
    }
    if (this.flushTimer !== undefined) return
    const wait = Math.max(0, this.lastFlush + FRAME_INTERVAL_MS - Date.now())
    this.flushTimer = setTimeout(() => this.flush(), wait)
  }

  private flush(): void {
    this.flushTimer = undefined
    this.lastFlush = Date.now()
    const { messages, removed, header } = this.pending
    this.pending = { messages: new Set(), removed: new Set(), header: false }
    const view = this.view
    const snapshot = view?.snapshot()
    if (!view || !snapshot) return
    for (const id of removed) this.append(JSON.stringify({ type: "share.message.removed", id }))
    for (const id of messages) {
      const message = view.message(id)
      if (message) this.append(JSON.stringify({ type: "share.message", id, html: SharePage.message(message) }))
    }
    if (header) this.append(JSON.stringify({ type: "share.header", html: SharePage.header(snapshot) }))
  }

  private store(view: ShareView, changes: ShareChange[]): void {
    for (const change of changes) {
      switch (change.kind) {
        case "session":
          this.sql.exec("INSERT OR REPLACE INTO share_session (id, data) VALUES (1, ?)", JSON.stringify(view.session))
          break
        case "message": {
          const info = view.message(change.id)?.info
          if (info) this.sql.exec("INSERT OR REPLACE INTO share_message (id, data) VALUES (?, ?)", change.id, JSON.stringify(info))
          break
        }
        case "part": {
          const part = view.part(change.messageID, change.id)
          if (part) this.sql.exec("INSERT OR REPLACE INTO share_part (id, message_id, data) VALUES (?, ?, ?)", change.id, change.messageID, JSON.stringify(part))
          break
        }
        case "message.removed":
          this.sql.exec("DELETE FROM share_message WHERE id = ?", change.id)
          this.sql.exec("DELETE FROM share_part WHERE message_id = ?", change.id)
          break
        case "part.removed":
          this.sql.exec("DELETE FROM share_part WHERE id = ?", change.id)
          break
      }
    }
  }

  private clearItems(): void {
    this.sql.exec("DELETE FROM share_session; DELETE FROM share_message; DELETE FROM share_part")
  }
}
