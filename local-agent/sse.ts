import type { HttpBindings } from "@hono/node-server"
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response"
import { SSE_HEADERS, type SseTransport } from "../shared/event/sse.ts"

/**
 * Writes SSE straight to Node's ServerResponse. A web ReadableStream costs a read promise and a microtask
 * per frame per subscriber on the way to the socket; for fan-out to many subscribers that is most of the work.
 */
export const nodeResponseTransport: SseTransport = {
  open(c, onGone) {
    const { outgoing } = c.env as HttpBindings
    // Headers middleware set so far (CORS) go out with ours.
    outgoing.writeHead(200, { ...Object.fromEntries(c.res.headers), ...SSE_HEADERS })
    outgoing.flushHeaders()
    outgoing.once("close", onGone)
    return {
      response: RESPONSE_ALREADY_SENT,
      channel: {
        buffered: () => outgoing.writableLength,
        write: (chunk) => void outgoing.write(chunk),
        end: () => outgoing.end(),
        destroy: () => outgoing.destroy(),
      },
    }
  },
}
