import type { ResumeStatus, StreamSink } from "./stream.ts"

export interface SseOptions {
  heartbeatMs: number
  /** Bytes that may wait for a slow client; past that its stream is closed and it resumes by id. */
  maxBufferedBytes: number
  /** Attaches the sink to the event source; resolves to the detach function. */
  attach(sink: StreamSink): Promise<() => void>
  /** The data line of the `server.connected` and `server.heartbeat` frames (wrapped differently on /global/event). */
  controlFrame(type: "server.connected" | "server.heartbeat", properties: Record<string, unknown>): string
  /** Aborts when the client goes away (on Workers only this reports a disconnect, not the stream's cancel). */
  signal?: AbortSignal
  onClose?(): void
}

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  "X-Content-Type-Options": "nosniff",
} as const

const encoder = new TextEncoder()

/**
 * Streams events as SSE. Every frame has an `id:`; heartbeats repeat the last id so a client can always
 * resume from what it holds. Writes never wait on the client: chunks queue in the stream, and a client
 * whose queue passes `maxBufferedBytes` is closed instead of slowing anyone else down.
 */
export function sseResponse(options: SseOptions): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let lastId = ""
  let closed = false
  let detach: (() => void) | undefined
  let heartbeat: ReturnType<typeof setInterval> | undefined

  function finish() {
    if (closed) return
    closed = true
    clearInterval(heartbeat)
    options.signal?.removeEventListener("abort", finish)
    detach?.()
    try {
      controller.close()
    } catch {
      // already closed or cancelled by the client
    }
    options.onClose?.()
  }

  function write(id: string, data: string) {
    if (closed) return
    // With a zero high-water mark, desiredSize is minus the bytes still queued for this client.
    if (-(controller.desiredSize ?? 0) > options.maxBufferedBytes) return finish()
    controller.enqueue(encoder.encode(`id: ${id}\ndata: ${data}\n\n`))
    lastId = id
  }

  const sink: StreamSink = {
    open(status: ResumeStatus, id: string) {
      write(id, options.controlFrame("server.connected", { resume: status }))
    },
    event: write,
    close: finish,
  }

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        if (options.signal?.aborted) return finish()
        options.signal?.addEventListener("abort", finish)
        heartbeat = setInterval(() => write(lastId, options.controlFrame("server.heartbeat", {})), options.heartbeatMs)
        options.attach(sink).then(
          (detachFn) => {
            detach = detachFn
            if (closed) detachFn()
          },
          () => finish(),
        )
      },
      cancel() {
        finish()
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 0 }),
  )
  return new Response(body, { headers: SSE_HEADERS })
}
