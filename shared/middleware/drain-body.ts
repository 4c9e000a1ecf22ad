import type { MiddlewareHandler, Next } from "hono"
import { discard, mayHaveBody } from "./body-limit.ts"

/**
 * Reads and drops a request body that nothing read (a 404, a refused credential, a bad path parameter)
 * before the answer goes out. Answering with the body still on the wire breaks a keep-alive connection:
 * Node's server closes it under the client's next request ("other side closed"), workerd restarts it.
 */
export function drainUnreadBody(): MiddlewareHandler {
  // Not async itself: a request without a body passes straight on.
  return (c, next) => {
    const body = mayHaveBody(c) ? c.req.raw.body : null
    return body ? drainAfter(body, next) : next()
  }
}

async function drainAfter(body: ReadableStream<Uint8Array>, next: Next): Promise<void> {
  await next()
  if (!body.locked) await discard(body.getReader())
}
