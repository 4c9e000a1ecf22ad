import type { Context } from "hono"
import type { Ports, StreamKey } from "../ports.ts"
import { sseResponse } from "../event/sse.ts"
import { controlFrame, type ControlWrap } from "../event/control.ts"

/**
 * An SSE response for one stream. `Last-Event-ID` (or `?lastEventId=` for clients that cannot set headers)
 * resumes it; `wrap` shapes the connected and heartbeat frames like the stream's other frames. A hub that
 * serves streams where they live answers the whole response itself.
 */
export function eventStream(ports: Ports, c: Context, key: StreamKey, wrap: ControlWrap = "bare"): Response | Promise<Response> {
  const lastEventId = c.req.header("Last-Event-ID") ?? c.req.query("lastEventId")
  if (ports.hub.respond) return ports.hub.respond(key, lastEventId, wrap, c.req.raw.signal)
  return sseResponse(c, ports.sseTransport, {
    heartbeatMs: ports.config.heartbeatMs,
    maxBufferedBytes: ports.config.maxSubscriberBufferBytes,
    attach: (sink) => ports.hub.subscribe(key, lastEventId, sink),
    controlFrame: (type, properties) => controlFrame(wrap, type, properties),
  })
}
