import { eventFrames } from "../shared/event/routing.ts"
import type { StreamSink } from "../shared/event/stream.ts"
import type { EventHub, StreamKey } from "../shared/ports.ts"
import type { Event } from "../shared/schema/event.ts"
import type { Objects } from "./objects.ts"
import { Wire } from "./objects/wire.ts"

/**
 * Fan-out through Durable Objects: each stream lives in its object; a subscriber is a WebSocket from this
 * Worker to that object, relayed into the SSE response the Worker holds.
 */
export class DurableObjectHub implements EventHub {
  constructor(private readonly objects: Objects) {}

  async publish(directory: string, event: Event): Promise<void> {
    const frames = eventFrames(directory, event)
    const appends: Promise<void>[] = [
      this.objects.directory(directory).append(frames.local),
      this.objects.global().append(frames.global),
    ]
    if (frames.sessionID) {
      const session = this.objects.session(frames.sessionID)
      appends.push(event.type === "session.deleted" ? session.appendFinal(frames.local) : session.append(frames.local))
    }
    await Promise.all(appends)
  }

  subscribe(key: StreamKey, lastEventId: string | undefined, sink: StreamSink): Promise<() => void> {
    return subscribeToObject(this.objects.stream(key), lastEventId, sink)
  }
}

/** A stream object's subscription: a WebSocket from this Worker to the object (StreamObject), relayed into `sink`. */
export async function subscribeToObject(
  stream: { fetch(request: Request): Promise<Response> },
  lastEventId: string | undefined,
  sink: StreamSink,
): Promise<() => void> {
  const url = new URL("https://stream/subscribe")
  if (lastEventId) url.searchParams.set("after", lastEventId)
  // A Request, not (url, init): the stream may be the calling object itself (Objects' host), whose fetch takes one.
  const response = await stream.fetch(new Request(url, { headers: { Upgrade: "websocket" } }))
  const socket = response.webSocket
  if (!socket) throw new Error(`Event stream refused the subscription: ${response.status}`)
  socket.accept()
  socket.addEventListener("message", (message) => {
    const frame = typeof message.data === "string" ? Wire.parse(message.data) : undefined
    if (frame?.kind === "open") sink.open(frame.status, frame.id, frame.replayed)
    else if (frame?.kind === "event") sink.event(frame.id, frame.data)
  })
  socket.addEventListener("close", () => sink.close())
  socket.addEventListener("error", () => sink.close())
  return () => {
    try {
      socket.close(1000, "subscriber left")
    } catch {
      // already closed
    }
  }
}
