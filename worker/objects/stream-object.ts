import { DurableObject } from "cloudflare:workers"
import { EventWindow } from "../../shared/event/stream.ts"
import { replayWindow, type Env } from "../env.ts"
import { objectName, tenantOfObject } from "../names.ts"
import { Wire } from "./wire.ts"

/** Appends between two trims of the stored stream. */
const TRIM_EVERY = 64

/**
 * A Durable Object that owns one event stream: the replay window lives in SQLite (so ids survive eviction
 * and restarts), and subscribers are hibernatable WebSockets from the Workers that hold the SSE responses.
 * A Worker closes its socket the moment its SSE client goes away, so a dead subscriber is dropped at once.
 */
export abstract class StreamObject extends DurableObject<Env> {
  protected readonly sql: SqlStorage
  private window: EventWindow

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.window = this.initialize()
  }

  /** Creates the subclass's tables; runs at start and after the object's storage is wiped. */
  protected abstract createTables(): void

  private initialize(): EventWindow {
    this.sql.exec("CREATE TABLE IF NOT EXISTS stream_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    this.sql.exec("CREATE TABLE IF NOT EXISTS stream_event (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    this.createTables()
    let epoch = this.sql.exec<{ value: string }>("SELECT value FROM stream_meta WHERE key = 'epoch'").toArray()[0]?.value
    if (!epoch) {
      epoch = EventWindow.newEpoch(Date.now())
      this.sql.exec("INSERT INTO stream_meta (key, value) VALUES ('epoch', ?)", epoch)
    }
    const capacity = replayWindow(this.env)
    const entries = this.sql
      .exec<{ seq: number; data: string }>("SELECT seq, data FROM stream_event ORDER BY seq DESC LIMIT ?", capacity)
      .toArray()
      .reverse()
    return new EventWindow(epoch, capacity, { seq: entries.at(-1)?.seq ?? 0, entries })
  }

  /** Appends one frame (JSON) to the stream and sends it to every subscriber. */
  append(data: string): void {
    const entry = this.window.append(data)
    this.sql.exec("INSERT INTO stream_event (seq, data) VALUES (?, ?)", entry.seq, data)
    // Rows past the window are never read (a restart loads only the newest `capacity`): trimmed now and then, not per frame.
    if (entry.seq % TRIM_EVERY === 0) this.sql.exec("DELETE FROM stream_event WHERE seq <= ?", entry.seq - this.window.capacity)
    const frame = Wire.event(this.window.idOf(entry.seq), data)
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(frame)
      } catch {
        // a socket that is closing; its close handler cleans up
      }
    }
    this.storedSizeChanged()
  }

  private sizeReport: ReturnType<typeof setTimeout> | undefined

  /**
   * Every write is followed by an event, so this runs after writes: the object's SQLite size goes to its tenant's
   * GlobalObject (the stored-bytes limit) within a second, once for all the writes of that second.
   */
  protected storedSizeChanged(): void {
    const name = this.ctx.id.name
    const tenant = name && tenantOfObject(name)
    if (!name || tenant === undefined || this.sizeReport) return
    this.sizeReport = setTimeout(() => {
      this.sizeReport = undefined
      const bytes = this.ctx.storage.sql.databaseSize
      this.env.GLOBAL.getByName(objectName(tenant, { kind: "global" }))
        .recordStoredBytes(name, bytes)
        .catch((error) => console.error(JSON.stringify({ level: "error", message: "stored size report failed", error: String(error) })))
    }, 1000)
  }

  /** The id of the stream's newest frame. */
  protected lastEventId(): string {
    return this.window.lastId
  }

  /** Drops all of this object's state (and its stream), after ending every subscription. */
  protected async wipe(): Promise<void> {
    for (const socket of this.ctx.getWebSockets()) socket.close(1000, "deleted")
    await this.ctx.storage.deleteAll()
    this.window = this.initialize()
  }

  /** `GET /subscribe?after=<lastEventId>` with `Upgrade: websocket`: replay, then live frames. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket upgrade", { status: 426 })
    }
    const after = new URL(request.url).searchParams.get("after") ?? undefined
    const { 0: client, 1: server } = new WebSocketPair()
    this.ctx.acceptWebSocket(server)
    const resume = this.window.resume(after)
    server.send(Wire.open(resume.status, resume.id, resume.entries.length))
    for (const entry of resume.entries) server.send(Wire.event(entry.id, entry.data))
    return new Response(null, { status: 101, webSocket: client })
  }

  override webSocketMessage(): void {
    // Subscribers only listen.
  }

  override webSocketClose(socket: WebSocket, code: number): void {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, "closed")
    } catch {
      // already closed
    }
  }
}
