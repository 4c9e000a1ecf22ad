import { DurableObject } from "cloudflare:workers"
import { Tunnel } from "../../shared/tunnel.ts"
import { numberVar, type Env } from "../env.ts"
import { DurableObjectHub } from "../hub.ts"
import { Objects } from "../objects.ts"
import type { Event } from "../../shared/schema/event.ts"
import { recordAnnouncedProjects } from "../announced-projects.ts"

/** What the Worker gets back for a request sent through the tunnel. */
export type TunnelResult =
  | { ok: true; status: number; headers: [string, string][]; body: ReadableStream<Uint8Array> }
  | { ok: false; reason: "unavailable" | "dropped" | "timeout" | "busy" | "too-large"; message: string }

interface Pending {
  resolve(result: TunnelResult): void
  body?: ReadableStreamDefaultController<Uint8Array>
  timer: ReturnType<typeof setTimeout>
}

const AGENT = "agent"
const SERVED_KEY = "served"

/** The directories the machine said it serves when its agent last connected. */
export type Served = Omit<Tunnel.Hello, "t">
const relayTag = (id: number) => `relay:${id}`

/**
 * One paired machine's end of the tunnel. The agent's WebSocket is accepted with the hibernation API (the
 * object sleeps while the machine is idle; `ping` is answered without waking it). Requests from Workers go
 * down as frames with ids and come back streamed; PTY sockets are relayed both ways. The newest agent
 * connection wins. If the agent goes away, requests in flight fail at once and relays close with 1012.
 */
export class MachineObject extends DurableObject<Env> {
  private readonly pending = new Map<number, Pending>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(Tunnel.PING, Tunnel.PONG))
    // Tickets outlive hibernation: a browser asks for one, then connects moments later.
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS pty_ticket (ticket TEXT PRIMARY KEY, pty_id TEXT NOT NULL, directory TEXT NOT NULL, expires INTEGER NOT NULL)",
    )
  }

  /** Relay sockets survive hibernation and a counter would not, so ids are random. */
  private newID(): number {
    return crypto.getRandomValues(new Uint32Array(1))[0]!
  }

  private get limits() {
    return {
      timeoutMs: numberVar(this.env.OPENCODE_TUNNEL_TIMEOUT_MS, 30_000),
      maxConcurrent: numberVar(this.env.OPENCODE_TUNNEL_MAX_CONCURRENT, 256),
      maxFrameBytes: numberVar(this.env.OPENCODE_TUNNEL_MAX_FRAME_BYTES, 8 * 1024 * 1024),
      /** An agent that has not pinged for this long is taken for a half-open connection. */
      silenceMs: numberVar(this.env.OPENCODE_TUNNEL_SILENCE_MS, 45_000),
    }
  }

  /**
   * The live agent socket, if any: the newest open one (a replaced socket is listed until it has closed).
   * One that has gone silent past the bound is closed first.
   */
  private agent(): WebSocket | undefined {
    const connectedAt = (socket: WebSocket) => (socket.deserializeAttachment() as { connectedAt: number } | null)?.connectedAt ?? 0
    const socket = this.ctx
      .getWebSockets(AGENT)
      .filter((candidate) => candidate.readyState === WebSocket.OPEN)
      .sort((a, b) => connectedAt(b) - connectedAt(a))[0]
    if (!socket) return undefined
    const lastPing = this.ctx.getWebSocketAutoResponseTimestamp(socket)?.getTime() ?? 0
    if (Date.now() - Math.max(lastPing, connectedAt(socket)) > this.limits.silenceMs) {
      socket.close(1011, "no heartbeat")
      this.agentGone()
      return undefined
    }
    return socket
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("WebSocket expected", { status: 426 })
    const url = new URL(request.url)
    if (url.pathname === "/connect") return this.connectAgent(url.searchParams.get("tenant") ?? "")
    if (url.pathname === "/relay") return this.openRelay(url.searchParams.get("path") ?? "/")
    return new Response("Not found", { status: 404 })
  }

  private connectAgent(tenant: string): Response {
    for (const older of this.ctx.getWebSockets(AGENT)) older.close(Tunnel.REPLACED, "replaced by a newer connection")
    this.agentGone()
    const { 0: client, 1: server } = new WebSocketPair()
    this.ctx.acceptWebSocket(server, [AGENT])
    server.serializeAttachment({ connectedAt: Date.now(), tenant })
    return new Response(null, { status: 101, webSocket: client })
  }

  private openRelay(path: string): Response {
    const agent = this.agent()
    if (!agent) return new Response("No machine is connected", { status: 503 })
    const id = this.newID()
    const { 0: client, 1: server } = new WebSocketPair()
    this.ctx.acceptWebSocket(server, [relayTag(id)])
    server.serializeAttachment({ relay: id })
    this.send(agent, { t: "socket.open", id, path })
    return new Response(null, { status: 101, webSocket: client })
  }

  connected(): boolean {
    return this.agent() !== undefined
  }

  /** What the machine last announced, kept while it is away; undefined until its agent has connected once. */
  async served(): Promise<Served | undefined> {
    return this.ctx.storage.get<Served>(SERVED_KEY)
  }

  /**
   * Sends one request to the machine and resolves once its response head arrives (the body streams after).
   * `waitMs` extends the tunnel's timeout for a request known to take longer (a bash command's own timeout).
   */
  async request(method: string, path: string, headers: [string, string][], body?: string, waitMs?: number): Promise<TunnelResult> {
    const agent = this.agent()
    const limits = this.limits
    const timeoutMs = Math.max(limits.timeoutMs, waitMs ?? 0)
    if (!agent) return { ok: false, reason: "unavailable", message: "No machine is connected to this edge" }
    if (this.pending.size >= limits.maxConcurrent) {
      return { ok: false, reason: "busy", message: `The machine already has ${limits.maxConcurrent} requests in flight` }
    }
    if (body !== undefined && body.length > limits.maxFrameBytes) {
      return { ok: false, reason: "too-large", message: `A tunnel frame is limited to ${limits.maxFrameBytes} bytes` }
    }
    const id = this.newID()
    return new Promise<TunnelResult>((resolve) => {
      const timer = setTimeout(() => this.fail(id, "timeout", `The machine did not answer within ${timeoutMs} ms`), timeoutMs)
      this.pending.set(id, { resolve, timer })
      this.send(agent, { t: "request", id, method, path, headers, ...(body !== undefined ? { body } : {}) })
    })
  }

  /** A single-use ticket (256 bits, 60 s) to connect to one PTY from one directory, as the local agent issues. */
  issueTicket(ptyID: string, directory: string, prefix: string): { ticket: string; expires_in: number } {
    const now = Date.now()
    const sql = this.ctx.storage.sql
    sql.exec("DELETE FROM pty_ticket WHERE expires <= ?", now)
    const bytes = crypto.getRandomValues(new Uint8Array(32))
    const ticket = prefix + Tunnel.encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
    sql.exec("INSERT INTO pty_ticket (ticket, pty_id, directory, expires) VALUES (?, ?, ?, ?)", ticket, ptyID, directory, now + 60_000)
    return { ticket, expires_in: 60 }
  }

  checkTicket(ticket: string, ptyID: string, directory: string, consume: boolean): boolean {
    const sql = this.ctx.storage.sql
    const valid =
      sql
        .exec("SELECT 1 FROM pty_ticket WHERE ticket = ? AND pty_id = ? AND directory = ? AND expires > ?", ticket, ptyID, directory, Date.now())
        .toArray().length > 0
    if (valid && consume) sql.exec("DELETE FROM pty_ticket WHERE ticket = ?", ticket)
    return valid
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const tags = this.ctx.getTags(socket)
    if (tags.includes(AGENT)) return this.fromAgent(socket, message)
    const relay = (socket.deserializeAttachment() as { relay?: number } | null)?.relay
    const agent = this.agent()
    if (relay === undefined || !agent) return
    const binary = typeof message !== "string"
    const data = binary ? Tunnel.encodeBase64(new Uint8Array(message)) : message
    this.send(agent, { t: "socket.data", id: relay, data, binary })
  }

  override webSocketClose(socket: WebSocket, code: number, reason: string): void {
    const tags = this.ctx.getTags(socket)
    if (tags.includes(AGENT)) {
      // Only the current agent's loss matters; a replaced one was already dealt with.
      if (this.ctx.getWebSockets(AGENT).every((other) => other === socket)) this.agentGone()
    } else {
      const relay = (socket.deserializeAttachment() as { relay?: number } | null)?.relay
      const agent = this.agent()
      if (relay !== undefined && agent) this.send(agent, { t: "socket.close", id: relay, code: safeCode(code), reason })
    }
    try {
      socket.close(safeCode(code), reason)
    } catch {
      // already closed
    }
  }

  private async fromAgent(agent: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (typeof message !== "string") return
    const parsed = Tunnel.Up.safeParse(JSON.parse(message))
    if (!parsed.success) return
    const frame = parsed.data
    switch (frame.t) {
      case "hello": {
        await this.ctx.storage.put(SERVED_KEY, { directory: frame.directory, projects: frame.projects } satisfies Served)
        const { tenant } = agent.deserializeAttachment() as { tenant: string }
        await recordAnnouncedProjects(this.env, tenant, frame.projects)
        return
      }
      case "response.head": {
        const pending = this.pending.get(frame.id)
        if (!pending) return
        const body = new ReadableStream<Uint8Array>({ start: (controller) => void (pending.body = controller) })
        pending.resolve({ ok: true, status: frame.status, headers: frame.headers, body })
        return
      }
      case "response.chunk":
        this.pending.get(frame.id)?.body?.enqueue(Tunnel.decodeBase64(frame.data))
        return
      case "response.end": {
        const pending = this.pending.get(frame.id)
        if (!pending) return
        clearTimeout(pending.timer)
        this.pending.delete(frame.id)
        pending.body?.close()
        return
      }
      case "response.error":
        return this.fail(frame.id, "dropped", frame.message)
      case "socket.data": {
        const relay = this.ctx.getWebSockets(relayTag(frame.id))[0]
        relay?.send(frame.binary ? Tunnel.decodeBase64(frame.data) : frame.data)
        return
      }
      case "socket.close":
        for (const relay of this.ctx.getWebSockets(relayTag(frame.id))) relay.close(safeCode(frame.code), frame.reason)
        return
      case "event": {
        // Only what the machine itself reports: it cannot speak for sessions, which live on the edge.
        if (!Tunnel.isMachineEvent(frame.payload.type)) return
        const { tenant } = agent.deserializeAttachment() as { tenant: string }
        // The frame was validated against the Event schema above.
        await new DurableObjectHub(new Objects(this.env, tenant)).publish(frame.directory, frame.payload as Event)
        return
      }
    }
  }

  private fail(id: number, reason: "dropped" | "timeout", message: string): void {
    const pending = this.pending.get(id)
    if (!pending) return
    clearTimeout(pending.timer)
    this.pending.delete(id)
    if (pending.body) pending.body.error(new Error(message))
    else pending.resolve({ ok: false, reason, message })
  }

  /** The agent went away: nothing in flight can finish, and every relayed terminal must reconnect. */
  private agentGone(): void {
    for (const id of [...this.pending.keys()]) this.fail(id, "dropped", "The machine disconnected")
    for (const socket of this.ctx.getWebSockets()) {
      if (!this.ctx.getTags(socket).includes(AGENT)) socket.close(1012, "machine disconnected")
    }
  }

  private send(agent: WebSocket, frame: Tunnel.Down): void {
    agent.send(JSON.stringify(frame))
  }
}

/** Close codes a WebSocket may send (1005 and 1006 are only ever reported). */
function safeCode(code: number): number {
  return code === 1005 || code === 1006 || code < 1000 ? 1000 : code
}
