import type { MiddlewareHandler } from "hono"
import { discard, mayHaveBody } from "./body-limit.ts"

/**
 * Reads and drops a request body that nothing read (a 404, a refused credential, a bad path parameter)
 * before the answer goes out. Answering with the body still on the wire breaks a keep-alive connection:
 * Node's server closes it under the client's next request ("other side closed"), workerd restarts it.
 */
export function drainUnreadBody(): MiddlewareHandler {
  return async (c, next) => {
    const body = mayHaveBody(c) ? c.req.raw.body : null
    await next()
    if (body && !body.locked) await discard(body.getReader())
  }
}
