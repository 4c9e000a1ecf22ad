/**
 * Ordered event streams with a bounded replay window: the core of SSE fan-out on both runtimes.
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
  /** Called once, first: how the resume went, the id the subscriber now stands at, and how many replayed events follow. */
  open(status: ResumeStatus, id: string, replayed: number): void
  event(id: string, data: string): void
  /** The stream ended on the server's side (disposed). */
  close(): void
}

export interface Resume {
  status: ResumeStatus
  /** The id the subscriber stands at once `entries` are delivered (before them on "ok"). */
  id: string
  entries: { id: string; data: string }[]
}

/** The last `capacity` entries of a stream and the arithmetic of resuming from an id. */
export class EventWindow {
  private readonly ring: (StreamEntry | undefined)[]
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

  idOf(seq: number): string {
    return `${this.epoch}-${seq}`
  }

  /** The id of the newest entry: where a subscriber that has seen everything stands. */
  get lastId(): string {
    return this.idOf(this.seq)
  }

  append(data: string): StreamEntry {
    const entry = { seq: ++this.seq, data }
    this.ring[entry.seq % this.capacity] = entry
    return entry
  }

  /** What a subscriber holding `lastEventId` has missed, if the window still holds it. */
  resume(lastEventId: string | undefined): Resume {
    const gap = (status: ResumeStatus): Resume => ({ status, id: this.lastId, entries: [] })
    if (lastEventId === undefined || lastEventId === "") return gap("initial")
    const dash = lastEventId.lastIndexOf("-")
    const seq = Number(lastEventId.slice(dash + 1))
    const oldest = Math.max(0, this.seq - this.capacity)
    if (dash < 0 || lastEventId.slice(0, dash) !== this.epoch || !Number.isSafeInteger(seq) || seq > this.seq || seq < oldest) {
      return gap("gap")
    }
    const entries: Resume["entries"] = []
    for (let next = seq + 1; next <= this.seq; next++) {
      const entry = this.ring[next % this.capacity]
      if (entry) entries.push({ id: this.idOf(next), data: entry.data })
    }
    return { status: "ok", id: lastEventId, entries }
  }
}

/** A window plus in-memory subscribers: fan-out for a single process. */
export class EventStream {
  private readonly sinks = new Set<StreamSink>()

  constructor(readonly window: EventWindow) {}

  get subscriberCount(): number {
    return this.sinks.size
  }

  append(data: string): void {
    const id = this.window.idOf(this.window.append(data).seq)
    for (const sink of this.sinks) {
      try {
        sink.event(id, data)
      } catch {
        this.sinks.delete(sink)
      }
    }
  }

  /** Replays what the subscriber missed after `lastEventId`, then delivers live. Returns the detach function. */
  attach(lastEventId: string | undefined, sink: StreamSink): () => void {
    const resume = this.window.resume(lastEventId)
    sink.open(resume.status, resume.id, resume.entries.length)
    for (const entry of resume.entries) sink.event(entry.id, entry.data)
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
}
