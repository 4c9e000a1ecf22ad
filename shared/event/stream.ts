/**
 * One ordered event stream with a bounded replay window: the core of SSE fan-out on both runtimes.
 * Ids are `<epoch>-<seq>`: a stream that restarts from scratch gets a new epoch, so an id from an
 * older life is recognised as a gap instead of being confused with a newer event of the same seq.
 */
export type ResumeStatus = "initial" | "ok" | "gap"

export interface StreamEntry {
  seq: number
  /** The frame's JSON, serialised once for every subscriber. */
  data: string
}

export interface StreamSink {
  /** Called once, first: how the resume went and the id the subscriber now stands at. */
  open(status: ResumeStatus, id: string): void
  event(id: string, data: string): void
  /** The stream ended on the server's side (disposed). */
  close(): void
}

export class EventStream {
  private readonly ring: (StreamEntry | undefined)[]
  private readonly sinks = new Set<StreamSink>()
  private seq: number

  constructor(
    readonly epoch: string,
    readonly capacity: number,
    restored: { seq: number; entries: StreamEntry[] } = { seq: 0, entries: [] },
  ) {
    this.ring = new Array(capacity)
    this.seq = restored.seq
    for (const entry of restored.entries.slice(-capacity)) this.ring[entry.seq % capacity] = entry
  }

  static newEpoch(now: number): string {
    return now.toString(36) + Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, "0")
  }

  get head(): number {
    return this.seq
  }

  get subscriberCount(): number {
    return this.sinks.size
  }

  idOf(seq: number): string {
    return `${this.epoch}-${seq}`
  }

  append(data: string): StreamEntry {
    const entry = { seq: ++this.seq, data }
    this.ring[entry.seq % this.capacity] = entry
    const id = this.idOf(entry.seq)
    for (const sink of this.sinks) {
      try {
        sink.event(id, data)
      } catch {
        this.sinks.delete(sink)
      }
    }
    return entry
  }

  /** Replays what the subscriber missed after `lastEventId`, then delivers live. Returns the detach function. */
  attach(lastEventId: string | undefined, sink: StreamSink): () => void {
    const { status, from } = this.resume(lastEventId)
    sink.open(status, this.idOf(status === "ok" ? from : this.seq))
    if (status === "ok") {
      for (let seq = from + 1; seq <= this.seq; seq++) {
        const entry = this.ring[seq % this.capacity]
        if (entry) sink.event(this.idOf(seq), entry.data)
      }
    }
    this.sinks.add(sink)
    return () => {
      this.sinks.delete(sink)
    }
  }

  closeAll(): void {
    const sinks = [...this.sinks]
    this.sinks.clear()
    for (const sink of sinks) sink.close()
  }

  private resume(lastEventId: string | undefined): { status: ResumeStatus; from: number } {
    if (lastEventId === undefined || lastEventId === "") return { status: "initial", from: this.seq }
    const dash = lastEventId.lastIndexOf("-")
    const epoch = lastEventId.slice(0, dash)
    const seq = Number(lastEventId.slice(dash + 1))
    const oldest = Math.max(0, this.seq - this.capacity)
    if (dash < 0 || epoch !== this.epoch || !Number.isSafeInteger(seq) || seq > this.seq || seq < oldest) {
      return { status: "gap", from: this.seq }
    }
    return { status: "ok", from: seq }
  }
}
