export interface ClientStreamOptions {
  /** The request's signal: deployed, `enable_request_signal` aborts it as soon as the client disconnects. */
  signal: AbortSignal
  /** How long the client may leave a chunk it was handed untaken before it counts as gone. */
  stalledAfterMs: number
  /** Runs once, when the stream is over for whatever reason. */
  onEnd: () => void
}

/**
 * An event stream's body as its client takes it, with `onEnd` called once the stream is over: the body ended or
 * failed, the client cancelled it, the request's signal aborted, or the client has not asked for more for
 * `stalledAfterMs` since it was handed a chunk. The last is the one `wrangler dev` needs: there a client that left
 * can leave the response neither cancelled nor aborted, only unread (miniflare's proxy keeps its side open), and
 * an event stream always hands its client a chunk at the next heartbeat, so a few heartbeats untaken mean it left.
 * A stream that ends that way or by the signal is cancelled upstream (the body's source detaches from its object).
 */
export function clientStream(body: ReadableStream<Uint8Array>, options: ClientStreamOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let controller!: ReadableStreamDefaultController<Uint8Array>
  /** When the client was handed the chunk it has not asked past yet; undefined while it waits for one. */
  let untakenSince: number | undefined
  let ended = false

  const end = (reason: unknown) => {
    if (ended) return
    ended = true
    clearInterval(watchdog)
    options.signal.removeEventListener("abort", onAbort)
    reader.cancel(reason).catch(() => {})
    options.onEnd()
  }
  /**
   * Ends a stream its client left: the source is cancelled, and the response closed (the client is gone) or, when
   * stalled, errored, which drops the chunks it never took.
   */
  const drop = (stalled?: Error) => {
    end(stalled ?? options.signal.reason)
    try {
      if (stalled) controller.error(stalled)
      else controller.close()
    } catch {
      // already closed or cancelled
    }
  }
  const onAbort = () => drop()
  const watchdog = setInterval(() => {
    if (untakenSince !== undefined && Date.now() - untakenSince >= options.stalledAfterMs) {
      drop(new Error(`The client took nothing for ${options.stalledAfterMs} ms`))
    }
  }, Math.max(1, Math.floor(options.stalledAfterMs / 3)))
  options.signal.addEventListener("abort", onAbort, { once: true })

  return new ReadableStream<Uint8Array>(
    {
      start: (streamController) => {
        controller = streamController
        if (options.signal.aborted) onAbort()
      },
      // With a zero high-water mark, pull runs only when the client asks for a chunk.
      pull: async (streamController) => {
        untakenSince = undefined
        try {
          const chunk = await reader.read()
          if (ended) return
          if (chunk.done) {
            streamController.close()
            end(undefined)
          } else {
            streamController.enqueue(chunk.value)
            untakenSince = Date.now()
          }
        } catch (error) {
          if (ended) return
          streamController.error(error)
          end(error)
        }
      },
      cancel: (reason) => end(reason),
    },
    { highWaterMark: 0 },
  )
}
