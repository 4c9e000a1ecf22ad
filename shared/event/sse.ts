import type { Context } from "hono"
import type { ResumeStatus, StreamSink } from "./stream.ts"

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  "X-Content-Type-Options": "nosniff",
} as const

/** Where a stream's bytes go. Writes never wait: a channel reports how much is still queued instead. */
export interface SseChannel {
  /** Bytes accepted but not yet taken by the client's connection. */
  buffered(): number
  write(chunk: Uint8Array): void
  /** Ends the stream after what is queued. */
  end(): void
  /** Drops the connection now, queued bytes included (a stalled client). */
  destroy(): void
}

/** Opens the response of an event stream; `onGone` runs once if the client leaves first. */
export interface SseTransport {
  open(c: Context, onGone: () => void): { channel: SseChannel; response: Response }
}

/** The web-standard transport: a ReadableStream body. Used on Workers, and anywhere a Response body is all there is. */
export const webStreamTransport: SseTransport = {
  open(c, onGone) {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const body = new ReadableStream<Uint8Array>(
      {
        start: (streamController) => void (controller = streamController),
        cancel: () => onGone(),
      },
      // With a zero high-water mark, desiredSize is minus the bytes still queued for this client.
      new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
    )
    // On Workers only request.signal reports a disconnect; the stream's cancel does not.
    const signal = c.req.raw.signal
    signal.addEventListener("abort", onGone, { once: true })
    const close = (ending: () => void) => {
      signal.removeEventListener("abort", onGone)
      try {
        ending()
      } catch {
        // already closed or cancelled by the client
      }
    }
    return {
      response: new Response(body, { headers: SSE_HEADERS }),
      channel: {
        buffered: () => -(controller.desiredSize ?? 0),
        write: (chunk) => controller.enqueue(chunk),
        end: () => close(() => controller.close()),
        destroy: () => close(() => controller.error(new Error("subscriber fell too far behind"))),
      },
    }
  },
}

export interface SseOptions {
  heartbeatMs: number
  /** Bytes that may wait for a slow client; past that its stream is closed and it resumes by id. */
  maxBufferedBytes: number
  /** Attaches the sink to the event source; resolves to the detach function. */
  attach(sink: StreamSink): Promise<() => void>
  /** The data line of the `server.connected` and `server.heartbeat` frames (wrapped differently on /global/event). */
  controlFrame(type: "server.connected" | "server.heartbeat", properties: Record<string, unknown>): string
}

const encoder = new TextEncoder()
let lastFrame: { id: string; data: string; bytes: Uint8Array } = { id: "", data: "", bytes: new Uint8Array() }

/** Every subscriber of a stream receives the same frame in turn, so the bytes are encoded once and shared. */
function encodeFrame(id: string, data: string): Uint8Array {
  if (lastFrame.id !== id || lastFrame.data !== data) {
    lastFrame = { id, data, bytes: encoder.encode(`id: ${id}\ndata: ${data}\n\n`) }
  }
  return lastFrame.bytes
}

/**
 * Streams events as SSE. Every frame has an `id:`; heartbeats repeat the last id so a client can always
 * resume from what it holds. Writes never wait on the client, and a client whose queue passes
 * `maxBufferedBytes` is dropped instead of slowing anyone else down.
 */
export function sseResponse(c: Context, transport: SseTransport, options: SseOptions): Response {
  let lastId = ""
  let closed = false
  let detach: (() => void) | undefined

  const finish = (close: () => void) => {
    if (closed) return
    closed = true
    clearInterval(heartbeat)
    detach?.()
    close()
  }
  const { channel, response } = transport.open(c, () => finish(() => {}))

  // A resume's replay is bounded by the replay window, not by maxBufferedBytes: holding it to the live bound
  // would drop every client whose backlog is larger, each time it resumed, so it never could catch up.
  let replayRemaining = 0
  const write = (id: string, data: string) => {
    if (closed) return
    if (replayRemaining > 0) replayRemaining--
    else if (channel.buffered() > options.maxBufferedBytes) return finish(() => channel.destroy())
    channel.write(encodeFrame(id, data))
    lastId = id
  }

  const heartbeat = setInterval(() => write(lastId, options.controlFrame("server.heartbeat", {})), options.heartbeatMs)
  options
    .attach({
      open: (status: ResumeStatus, id: string, replayed: number) => {
        write(id, options.controlFrame("server.connected", { resume: status }))
        replayRemaining = replayed
      },
      event: write,
      close: () => finish(() => channel.end()),
    })
    .then(
      (detachFn) => {
        detach = detachFn
        if (closed) detachFn()
      },
      () => finish(() => channel.end()),
    )
  return response
}
