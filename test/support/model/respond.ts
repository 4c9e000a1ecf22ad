import type { ServerResponse } from "node:http"
import { setTimeout as sleep } from "node:timers/promises"
import type { Pacing } from "./reply.ts"

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}

/**
 * Sends the response head at once, then the events at the reply's pace. Resolves true once every
 * event is written (the response is left open for the caller to end or break), false as soon as the
 * client has gone (`gone` aborted), so nothing waits on a timer for a reader that left.
 */
export async function sendEvents(
  res: ServerResponse,
  events: string[],
  pacing: Pacing,
  gone: AbortSignal,
  headers: Record<string, string>,
): Promise<boolean> {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers })
  res.flushHeaders()
  for (const [index, event] of events.entries()) {
    if (!(await pause(index === 0 ? pacing.firstChunkDelayMs : pacing.chunkDelayMs, gone))) return false
    // Waiting for each write to reach the socket means a break that follows cannot overtake it.
    await new Promise<void>((resolve) => res.write(event, () => resolve()))
  }
  return !gone.aborted
}

/** Waits `ms` (none when undefined); false if the client went away meanwhile. */
export async function pause(ms: number | undefined, gone: AbortSignal): Promise<boolean> {
  if (ms && ms > 0) await sleep(ms, undefined, { signal: gone }).catch(() => {})
  return !gone.aborted
}
