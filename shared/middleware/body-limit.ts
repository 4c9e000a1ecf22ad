import type { Context, MiddlewareHandler, Next } from "hono"
import { PayloadTooLargeError } from "../error.ts"

/** How much of an unwanted body is read and discarded before the rest is cancelled. */
const DISCARD_LIMIT = 64 * 1024 * 1024

/**
 * Refuses bodies over `maxBytes` with 413. A declared Content-Length is checked up front; a chunked body
 * is counted as it arrives. Either way, the rest of an oversized body is read and discarded (up to
 * DISCARD_LIMIT, then cancelled): answering while the request stream is still open breaks the connection under workerd, and
 * the next request on it fails ("worker restarted mid-request"). Hono's bodyLimit leaves the stream open.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () =>
    new PayloadTooLargeError({ message: `Request body is larger than ${maxBytes} bytes`, limit: maxBytes })
  // Not async itself: a request without a body passes straight on.
  return (c, next) => {
    const body = mayHaveBody(c) ? c.req.raw.body : null
    return body ? limit(c, body, next) : next()
  }

  async function limit(c: Context, body: ReadableStream<Uint8Array>, next: Next): Promise<void> {
    const declared = c.req.header("content-length")
    if (declared !== undefined && !c.req.header("transfer-encoding")) {
      if (Number(declared) > maxBytes) {
        await discard(body.getReader())
        throw tooLarge()
      }
      return next()
    }
    const reader = body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxBytes) {
        await discard(reader)
        throw tooLarge()
      }
      chunks.push(value)
    }
    const buffered = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      buffered.set(chunk, offset)
      offset += chunk.byteLength
    }
    c.req.raw = new Request(c.req.raw, { body: buffered })
    return next()
  }
}

/**
 * GET and HEAD carry no body (fetch forbids one), so their `body` is never read: reading it makes
 * @hono/node-server build a full Request and its AbortSignal, which most requests never need.
 */
export function mayHaveBody(c: Context): boolean {
  return c.req.method !== "GET" && c.req.method !== "HEAD"
}

export async function discard(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let discarded = 0
  while (discarded < DISCARD_LIMIT) {
    const { done, value } = await reader.read()
    if (done) return
    discarded += value.byteLength
  }
  await reader.cancel().catch(() => {})
}
