import WebSocket from "ws"
import { Tunnel } from "../shared/tunnel.ts"
import type { Logger } from "../shared/ports.ts"

export interface TunnelOptions {
  /** The edge's base URL, e.g. https://edge.example.com (ws:// or wss:// is derived). */
  edge: string
  /** The machine secret from pairing. */
  secret: string
  /** The local server the tunnel's requests are made against, e.g. http://127.0.0.1:4096. */
  local: string
  /** Headers the local server needs (its Basic auth, when a password is set). */
  localHeaders?: Record<string, string>
  log: Logger
  /** A newer connection of this machine took over: this one stops for good instead of fighting it. */
  onReplaced?(): void
  /** Heartbeat interval; the connection is taken for dead after three missed answers (45 s by default). */
  pingMs?: number
  onConnected?(): void
}

type MachineEventPayload = Extract<Tunnel.Up, { t: "event" }>["payload"]

/** Relayed terminal output is gathered into frames of up to this many characters. */
const COALESCE_CHARS = 64 * 1024
/** How long relayed output may wait to be gathered: well under what a typist notices. */
const COALESCE_MS = 2
/** Response bodies go up in pieces of this size. */
const CHUNK_BYTES = 256 * 1024
const MAX_BACKOFF_MS = 30_000

/**
 * The agent's end of the tunnel: one outbound WebSocket to the edge. Requests that come down run against
 * the local server (so the machine answers exactly as it does locally) and stream back; PTY sockets are
 * relayed to the local server's own WebSockets. It reconnects with exponential backoff and jitter, and
 * treats a connection whose pings go unanswered as dead.
 */
export function connectTunnel(options: TunnelOptions): { close(): Promise<void> } {
  const url = `${options.edge.replace(/^http/, "ws").replace(/\/$/, "")}/edge/tunnel`
  const localWs = options.local.replace(/^http/, "ws")
  const pingMs = options.pingMs ?? 15_000
  let stopped = false
  let attempt = 0
  // Kept across reconnects: events of an outage are replayed from the local stream's window.
  let lastEventId: string | undefined
  let current: WebSocket | undefined
  let retry: ReturnType<typeof setTimeout> | undefined

  const open = () => {
    // No permessage-deflate: compressing every small frame costs more than it saves on the tunnel.
    const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${options.secret}` }, perMessageDeflate: false })
    current = socket
    const relays = new Map<number, { socket: WebSocket; queue: (string | Buffer)[] }>()
    let lastPong = Date.now()
    let heartbeat: ReturnType<typeof setInterval> | undefined
    const events = new AbortController()
    const send = (frame: Tunnel.Up) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame))
    }

    socket.on("open", async () => {
      attempt = 0
      lastPong = Date.now()
      heartbeat = setInterval(() => {
        if (Date.now() - lastPong > pingMs * 3) return socket.terminate()
        socket.send(Tunnel.PING)
      }, pingMs)
      void followMachineEvents(send, events.signal)
      // Connected means the edge knows what this machine serves.
      await announce(send)
      options.log.info("tunnel connected", { edge: options.edge })
      options.onConnected?.()
    })

    socket.on("message", (raw) => {
      const text = raw.toString()
      if (text === Tunnel.PONG) return void (lastPong = Date.now())
      const parsed = Tunnel.Down.safeParse(JSON.parse(text))
      if (!parsed.success) return options.log.warn("tunnel: unreadable frame")
      const frame = parsed.data
      switch (frame.t) {
        case "request":
          return void forward(frame, send)
        case "socket.open": {
          const local = new WebSocket(`${localWs}${frame.path}`, { headers: options.localHeaders, perMessageDeflate: false })
          const entry = { socket: local, queue: [] as (string | Buffer)[] }
          relays.set(frame.id, entry)
          local.on("open", () => {
            for (const queued of entry.queue.splice(0)) local.send(queued)
          })
          // Terminal output comes in many small messages; what arrives within COALESCE_MS (up to COALESCE_CHARS)
          // crosses the tunnel as one frame. A binary (control) frame flushes first, keeping order.
          let text = ""
          let flushing = false
          const flush = () => {
            flushing = false
            if (!text) return
            send({ t: "socket.data", id: frame.id, binary: false, data: text })
            text = ""
          }
          local.on("message", (data, isBinary) => {
            const bytes = data as Buffer
            if (isBinary) {
              flush()
              return send({ t: "socket.data", id: frame.id, binary: true, data: bytes.toString("base64") })
            }
            text += bytes.toString("utf8")
            if (text.length >= COALESCE_CHARS) flush()
            else if (!flushing) {
              flushing = true
              setTimeout(flush, COALESCE_MS)
            }
          })
          local.on("close", (code, reason) => {
            flush()
            relays.delete(frame.id)
            send({ t: "socket.close", id: frame.id, code: code === 1005 || code === 1006 ? 1000 : code, reason: reason.toString() })
          })
          local.on("unexpected-response", (_request, response) => {
            relays.delete(frame.id)
            send({ t: "socket.close", id: frame.id, code: 1008, reason: `the machine answered ${response.statusCode}` })
          })
          local.on("error", () => {})
          return
        }
        case "socket.data": {
          const relay = relays.get(frame.id)
          const data = frame.binary ? Buffer.from(frame.data, "base64") : frame.data
          if (!relay) return
          if (relay.socket.readyState === WebSocket.OPEN) relay.socket.send(data)
          else relay.queue.push(data)
          return
        }
        case "socket.close":
          relays.get(frame.id)?.socket.close(frame.code, frame.reason)
          relays.delete(frame.id)
          return
      }
    })

    socket.on("close", (code, reason) => {
      clearInterval(heartbeat)
      events.abort()
      for (const relay of relays.values()) relay.socket.close(1001, "tunnel closed")
      relays.clear()
      if (code === Tunnel.REPLACED) {
        stopped = true
        options.log.warn("tunnel replaced by a newer connection of this machine; not reconnecting")
        options.onReplaced?.()
      }
      if (stopped) return
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2)
      options.log.warn("tunnel closed; reconnecting", { code, reason: reason.toString(), inMs: Math.round(delay) })
      retry = setTimeout(open, delay)
    })
    socket.on("error", (error) => options.log.warn("tunnel error", { error: error.message }))
  }

  /**
   * Tells the edge which directories this machine serves, as the local server reports them (its default
   * directory and the projects it knows, most recently used first). Without that answer the edge keeps
   * what it was told before.
   */
  async function announce(send: (frame: Tunnel.Up) => void) {
    try {
      const local = (path: string) => fetch(`${options.local}${path}`, { headers: options.localHeaders }).then((response) => response.json())
      // The default directory's project first: asking for it is what makes the local server know it.
      await local("/project/current")
      const [paths, projects] = (await Promise.all([local("/path"), local("/project")])) as [
        { directory: string },
        { id: string; worktree: string; vcs?: "git"; time: { updated: number } }[],
      ]
      const known = projects
        .filter((project) => project.id !== "global")
        .sort((a, b) => b.time.updated - a.time.updated)
        .slice(0, Tunnel.MAX_PROJECTS)
        .map(({ id, worktree, vcs }) => ({ id, worktree, ...(vcs ? { vcs } : {}) }))
      send(Tunnel.Hello.parse({ t: "hello", directory: paths.directory, projects: known }))
    } catch (error) {
      options.log.warn("tunnel: could not tell the edge which directories this machine serves", { error: (error as Error).message })
    }
  }

  /**
   * Follows the local server's /global/event and sends up what the machine itself reports (terminals, files,
   * language servers), so the edge's event streams carry them too. Resumes by id after any interruption.
   */
  async function followMachineEvents(send: (frame: Tunnel.Up) => void, signal: AbortSignal) {
    while (!signal.aborted) {
      try {
        const response = await fetch(`${options.local}/global/event`, {
          headers: { ...options.localHeaders, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
          signal,
        })
        let buffer = ""
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += Buffer.from(chunk).toString("utf8")
          let end: number
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const id = frame.match(/^id: (.*)$/m)?.[1]
            const data = frame.match(/^data: (.*)$/m)?.[1]
            if (id) lastEventId = id
            if (!data) continue
            const { directory, payload } = JSON.parse(data) as { directory?: string; payload: MachineEventPayload }
            if (directory && Tunnel.isMachineEvent(payload.type)) send({ t: "event", directory, payload })
          }
        }
      } catch {
        // aborted with the tunnel, or the local stream broke: retry below unless stopped
      }
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1_000))
    }
  }

  /** Runs one request against the local server and streams the answer back. */
  async function forward(frame: Extract<Tunnel.Down, { t: "request" }>, send: (frame: Tunnel.Up) => void) {
    try {
      const response = await fetch(`${options.local}${frame.path}`, {
        method: frame.method,
        headers: [...frame.headers, ...Object.entries(options.localHeaders ?? {})],
        body: frame.body === undefined ? undefined : Buffer.from(frame.body, "base64"),
      })
      send({ t: "response.head", id: frame.id, status: response.status, headers: [...response.headers] })
      if (response.body) {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          for (let offset = 0; offset < chunk.length; offset += CHUNK_BYTES) {
            send({ t: "response.chunk", id: frame.id, data: Buffer.from(chunk.subarray(offset, offset + CHUNK_BYTES)).toString("base64") })
          }
        }
      }
      send({ t: "response.end", id: frame.id })
    } catch (error) {
      send({ t: "response.error", id: frame.id, message: (error as Error).message })
    }
  }

  open()
  return {
    async close() {
      stopped = true
      clearTimeout(retry)
      current?.close(1000, "agent stopping")
    },
  }
}
