import type { TuiRequest } from "../schema/tui.ts"
import type { TuiControlQueue } from "../ports.ts"
import { TooManyRequestsError, TuiControlTimeoutError } from "../error.ts"

/** Requests waiting for a TUI to fetch them; more are refused (429). */
const MAX_QUEUED = 100

/**
 * The TUI control queue (upstream's `callTui`): server-side code puts a request to the attached TUI and
 * waits; the TUI long-polls `GET /tui/control/next`, acts, and posts the answer to `/tui/control/response`.
 * Answers go to the oldest request handed out and not answered yet (upstream pairs them in order too).
 *
 * This in-memory queue is the whole implementation on Node; on the edge the tenant's GlobalObject holds
 * one, so every Worker instance of the tenant reaches the same queue.
 */
export class MemoryControlQueue implements TuiControlQueue {
  private readonly queued: { request: TuiRequest; resolve(body: unknown): void; reject(error: Error): void }[] = []
  private readonly delivered: { resolve(body: unknown): void }[] = []
  private readonly pollers: ((entry: (typeof this.queued)[number] | undefined) => void)[] = []

  call(request: TuiRequest, timeoutMs?: number): Promise<unknown> {
    if (this.queued.length >= MAX_QUEUED) {
      return Promise.reject(new TooManyRequestsError({ message: `${MAX_QUEUED} requests already wait for the TUI` }))
    }
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const settle = { resolve: (body: unknown) => (clearTimeout(timer), resolve(body)), reject }
      const entry = { request, ...settle }
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          // Taken back while it still waits in the queue. Once handed out it keeps its place among the
          // delivered: the TUI's late answer is then used up by it, not given to the next caller.
          const queuedAt = this.queued.indexOf(entry)
          if (queuedAt >= 0) this.queued.splice(queuedAt, 1)
          reject(new TuiControlTimeoutError({ message: `The TUI did not answer ${request.path} within ${timeoutMs} ms` }))
        }, timeoutMs)
      }
      const poller = this.pollers.shift()
      if (poller) poller(entry)
      else this.queued.push(entry)
    })
  }

  next(timeoutMs: number): Promise<TuiRequest | undefined> {
    const take = (entry: (typeof this.queued)[number] | undefined) => {
      if (!entry) return undefined
      this.delivered.push({ resolve: entry.resolve })
      return entry.request
    }
    const queued = this.queued.shift()
    if (queued || timeoutMs <= 0) return Promise.resolve(take(queued))
    return new Promise((resolve) => {
      const poller = (entry: (typeof this.queued)[number] | undefined) => {
        clearTimeout(timer)
        resolve(take(entry))
      }
      const timer = setTimeout(() => {
        const at = this.pollers.indexOf(poller)
        if (at >= 0) this.pollers.splice(at, 1)
        resolve(undefined)
      }, timeoutMs)
      this.pollers.push(poller)
    })
  }

  async respond(body: unknown): Promise<boolean> {
    const waiting = this.delivered.shift()
    waiting?.resolve(body)
    return waiting !== undefined
  }
}

export namespace TuiControl {
  /** Puts `{path, body}` to the attached TUI and resolves with its answer (rejects after `timeoutMs`, if given). */
  export function call(queue: TuiControlQueue, path: string, body: unknown = {}, timeoutMs?: number): Promise<unknown> {
    return queue.call({ path, body }, timeoutMs)
  }
}
