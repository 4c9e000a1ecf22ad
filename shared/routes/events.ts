import type { Context } from "hono"
import { Identifier } from "../id.ts"
import type { Ports, StreamKey } from "../ports.ts"
import { sseResponse } from "../event/sse.ts"

/**
 * An SSE response for one stream. `Last-Event-ID` (or `?lastEventId=` for clients that cannot set headers)
 * resumes it; `wrapControl` shapes the connected and heartbeat frames like the stream's other frames.
 */
export function eventStream(
  ports: Ports,
  c: Context,
  key: StreamKey,
  wrapControl: (payload: string) => string = (payload) => payload,
): Response {
  const lastEventId = c.req.header("Last-Event-ID") ?? c.req.query("lastEventId")
  return sseResponse(c, ports.sseTransport, {
    heartbeatMs: ports.config.heartbeatMs,
    maxBufferedBytes: ports.config.maxSubscriberBufferBytes,
    attach: (sink) => ports.hub.subscribe(key, lastEventId, sink),
    controlFrame: (type, properties) =>
      wrapControl(JSON.stringify({ id: Identifier.ascending("event"), type, properties })),
  })
}
