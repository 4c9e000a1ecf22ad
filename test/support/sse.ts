/**
 * A small SSE client over fetch that keeps every frame it receives, so tests can wait for a frame
 * matching a predicate (a bounded wait, never a timing assertion) and then look at the whole sequence.
 */

export interface SseFrame {
  /** The `id:` field, or undefined when the frame had none. */
  id: string | undefined
  event: string | undefined
  data: string
  /** `data` parsed as JSON (undefined if it is not JSON). */
  json: any
  /** The frame's event: `json.payload` on /global/event, `json` elsewhere. */
  payload: { type: string; properties: any; id?: string } | undefined
}

export interface OpenOptions {
  headers?: Record<string, string>
  lastEventId?: string
}

export const WAIT_MS = 20_000

export class SseStream {
  readonly frames: SseFrame[] = []
  ended = false
  endError: unknown
  private buffer = ""
  private waiters = new Set<() => void>()

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  get status() {
    return this.response.status
  }

  /** Opens the stream; resolves once the response headers are in (check `status`). */
  static async open(url: string, options: OpenOptions = {}): Promise<SseStream> {
    const controller = new AbortController()
    const headers: Record<string, string> = { Accept: "text/event-stream", ...options.headers }
    if (options.lastEventId !== undefined) headers["Last-Event-ID"] = options.lastEventId
    const response = await fetch(url, { headers, signal: controller.signal })
    const stream = new SseStream(response, controller)
    if (response.ok && response.body) stream.pump(response.body)
    else {
      stream.ended = true
      await response.text().catch(() => {})
    }
    return stream
  }

  private async pump(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder()
    try {
      for await (const chunk of body) {
        this.buffer += decoder.decode(chunk, { stream: true })
        this.parse()
      }
    } catch (error) {
      this.endError = error
    } finally {
      this.ended = true
      this.notify()
    }
  }

  private parse() {
    this.buffer = this.buffer.replace(/\r\n?/g, "\n")
    let boundary: number
    while ((boundary = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, boundary)
      this.buffer = this.buffer.slice(boundary + 2)
      let id: string | undefined
      let event: string | undefined
      const data: string[] = []
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue
        const colon = line.indexOf(":")
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "")
        if (field === "id") id = value
        else if (field === "event") event = value
        else if (field === "data") data.push(value)
      }
      if (data.length === 0 && id === undefined) continue
      const text = data.join("\n")
      let json: any
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      const payload = json && typeof json === "object" ? (json.payload ?? json) : undefined
      this.frames.push({ id, event, data: text, json, payload })
    }
    this.notify()
  }

  private notify() {
    for (const waiter of [...this.waiters]) waiter()
  }

  /** Runs `probe` now and whenever the stream changes, until it settles the wait or `timeoutMs` runs out. */
  private settle<T>(
    probe: (settle: { resolve(value: T): void; reject(error: Error): void }) => void,
    timeoutMs: number,
    timeoutMessage: () => string,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done()
        reject(new Error(timeoutMessage()))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      const outcome = {
        resolve: (value: T) => (done(), resolve(value)),
        reject: (error: Error) => (done(), reject(error)),
      }
      const check = () => probe(outcome)
      this.waiters.add(check)
      check()
    })
  }

  /** Waits for the first frame at index >= `from` that matches; rejects if the stream ends or the wait runs out. */
  waitFor(predicate: (frame: SseFrame) => boolean, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<SseFrame> {
    const timeoutMs = options.timeoutMs ?? WAIT_MS
    let checked = options.from ?? 0
    return this.settle<SseFrame>(
      ({ resolve, reject }) => {
        for (; checked < this.frames.length; checked++) {
          if (predicate(this.frames[checked]!)) return resolve(this.frames[checked]!)
        }
        if (this.ended) reject(new Error(`stream ended before ${options.what ?? "the awaited frame"} (${this.describe()})`))
      },
      timeoutMs,
      () => `no ${options.what ?? "awaited frame"} within ${timeoutMs} ms (${this.describe()})`,
    )
  }

  /** Waits for an event of `type` (and matching `predicate`) at index >= `from`. */
  waitForEvent(type: string, predicate: (properties: any) => boolean = () => true, from = 0): Promise<SseFrame> {
    return this.waitFor((frame) => frame.payload?.type === type && predicate(frame.payload.properties), {
      from,
      what: `a ${type} event`,
    })
  }

  /** Waits until the stream has ended (the server closed it); rejects if it stays open past the wait. */
  waitEnded(timeoutMs = WAIT_MS): Promise<void> {
    return this.settle<void>(({ resolve }) => this.ended && resolve(), timeoutMs, () => `stream still open after ${timeoutMs} ms`)
  }

  /** Frames other than heartbeats. */
  events(from = 0): SseFrame[] {
    return this.frames.slice(from).filter((frame) => frame.payload?.type !== "server.heartbeat")
  }

  types(from = 0): string[] {
    return this.events(from).map((frame) => frame.payload?.type ?? "?")
  }

  describe(): string {
    return `${this.frames.length} frames: ${this.types().slice(-12).join(", ")}`
  }

  close() {
    this.controller.abort()
    this.ended = true
    this.notify()
  }
}

/** Opens a stream and waits for its first frame, which must be `server.connected`. */
export async function connect(url: string, options: OpenOptions = {}): Promise<SseStream> {
  const stream = await SseStream.open(url, options)
  if (stream.status !== 200) throw new Error(`GET ${url} answered ${stream.status}`)
  await stream.waitFor(() => true, { what: "the first frame" })
  return stream
}
