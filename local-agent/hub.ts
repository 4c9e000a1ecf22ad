import { EventStream, EventWindow, type StreamSink } from "../shared/event/stream.ts"
import { eventFrames, streamName } from "../shared/event/routing.ts"
import type { Clock, EventHub, StreamKey } from "../shared/ports.ts"
import type { Event } from "../shared/schema/event.ts"

/** In-process fan-out: one EventStream per session, directory and the global stream. */
export class MemoryHub implements EventHub {
  private readonly streams = new Map<string, EventStream>()

  constructor(
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {}

  async publish(directory: string, event: Event): Promise<void> {
    const frames = eventFrames(directory, event)
    if (frames.sessionID) this.stream({ kind: "session", sessionID: frames.sessionID }).append(frames.local)
    this.stream({ kind: "directory", directory }).append(frames.local)
    this.stream({ kind: "global" }).append(frames.global)
    if (event.type === "session.deleted") this.drop({ kind: "session", sessionID: event.properties.sessionID })
  }

  async subscribe(key: StreamKey, lastEventId: string | undefined, sink: StreamSink): Promise<() => void> {
    return this.stream(key).attach(lastEventId, sink)
  }

  subscriberCount(key: StreamKey): number {
    return this.streams.get(streamName(key))?.subscriberCount ?? 0
  }

  private drop(key: StreamKey) {
    const name = streamName(key)
    this.streams.get(name)?.closeAll()
    this.streams.delete(name)
  }

  private stream(key: StreamKey): EventStream {
    const name = streamName(key)
    let stream = this.streams.get(name)
    if (!stream) {
      stream = new EventStream(new EventWindow(EventWindow.newEpoch(this.clock.now()), this.capacity))
      this.streams.set(name, stream)
    }
    return stream
  }
}
