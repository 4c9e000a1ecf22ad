import type { Resume, StreamSink } from "../shared/event/stream.ts"
import { Wire } from "./objects/wire.ts"

/** The stream object as a relay reaches it; a fresh stub per call, made in the calling request's context. */
export interface RelaySource {
  fetch(request: Request): Promise<Response>
  resume(after: string | undefined, maxBytes: number): Promise<Resume & { more: boolean }>
}

/** The most a resume's replay takes per RPC answer (an answer is bounded); the rest comes in further pages. */
const REPLAY_PAGE_BYTES = 4 * 1024 * 1024

interface Frame {
  seq: number
  id: string
  data: string
}

/**
 * One SSE subscriber of a relay. Everything it is given runs in its own request's context (in `pump`): I/O objects
 * such as its response stream belong to that request, and a promise it creates and another request resolves
 * resumes in the context it was created in.
 */
interface Member {
  sink: StreamSink
  source: () => RelaySource
  /** The seq of the newest frame it has (or does not need); Infinity until it knows where it stands. */
  seq: number
  /** Resolves its pump's wait (made by the pump, in its context). */
  wake: (() => void) | undefined
  pumping: boolean
  left: boolean
}

const seqOf = (id: string) => Number(id.slice(id.lastIndexOf("-") + 1))
const epochOf = (id: string) => id.slice(0, id.lastIndexOf("-"))

/**
 * The streams this isolate relays: one subscription to each stream object, however many SSE subscribers it has here,
 * keyed by the object's name (which names its tenant, so tenants never share one).
 */
export class StreamRelays {
  private readonly relays = new Map<string, StreamRelay>()

  subscribe(name: string, source: () => RelaySource, lastEventId: string | undefined, sink: StreamSink): Promise<() => void> {
    let relay = this.relays.get(name)
    if (!relay) {
      const created = new StreamRelay(() => {
        if (this.relays.get(name) === created) this.relays.delete(name)
      })
      this.relays.set(name, (relay = created))
    }
    return relay.subscribe(lastEventId, sink, source)
  }
}

/** The isolate's relays, for the SSE routes of every tenant served here. */
export const isolateRelays = new StreamRelays()

/**
 * One stream object's frames fanned out inside this isolate. One WebSocket from the object (hibernatable on its side)
 * carries each frame once; each subscriber's pump takes what it has not seen, all of it in one write. The socket
 * belongs to the request of one subscriber, the carrier: when that one leaves, another opens a new socket from its
 * own request, resuming after the last frame received, so nothing is lost or repeated (frames go by seq). A socket
 * the object closes ends every subscriber's stream; each resumes by its last id, as it would from a socket of its own.
 */
class StreamRelay {
  private readonly members = new Set<Member>()
  /** Frames some member has yet to take, oldest first. */
  private log: Frame[] = []
  private epoch = ""
  private lastSeq = 0
  private carrier: Member | undefined
  private socket: WebSocket | undefined
  private ended = false
  /** Members waiting for the first connection to say where the stream stands. */
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = []

  constructor(private readonly forget: () => void) {}

  async subscribe(lastEventId: string | undefined, sink: StreamSink, source: () => RelaySource): Promise<() => void> {
    const member: Member = { sink, source, seq: Infinity, wake: undefined, pumping: false, left: false }
    this.members.add(member)
    const detach = () => this.leave(member)
    try {
      if (!this.carrier) {
        this.carrier = member
        await this.carry(member)
      }
      if (!this.epoch) await new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
      if (this.ended || member.left) throw new Error("The event stream ended")
      member.seq = this.lastSeq
      if (lastEventId) await this.replay(member, lastEventId)
      else sink.open("initial", `${this.epoch}-${this.lastSeq}`, 0)
    } catch (error) {
      detach()
      throw error
    }
    void this.pump(member)
    return detach
  }

  /** Opens the relay's socket from `member`'s request: from the start, or after the last frame received. */
  private async carry(member: Member): Promise<void> {
    const url = new URL("https://stream/subscribe")
    const after = this.epoch ? `${this.epoch}-${this.lastSeq}` : undefined
    if (after) url.searchParams.set("after", after)
    const response = await member.source().fetch(new Request(url, { headers: { Upgrade: "websocket" } }))
    const socket = response.webSocket
    if (!socket) throw new Error(`Event stream refused the subscription: ${response.status}`)
    socket.accept()
    if (this.ended || this.carrier !== member) return close(socket)
    this.socket = socket
    socket.addEventListener("message", (message) => {
      if (socket !== this.socket) return
      const frame = typeof message.data === "string" ? Wire.parse(message.data) : undefined
      if (frame?.kind === "event") this.received(frame.id, frame.data)
      else if (frame?.kind === "open") this.opened(frame.status, frame.id, after)
    })
    const lost = () => {
      if (socket === this.socket) this.end()
    }
    socket.addEventListener("close", lost)
    socket.addEventListener("error", lost)
  }

  private opened(status: string, id: string, after: string | undefined) {
    if (after === undefined) {
      this.epoch = epochOf(id)
      this.lastSeq = seqOf(id)
      for (const waiter of this.readyWaiters.splice(0)) waiter.resolve()
    } else if (status !== "ok") {
      // The object no longer holds what this isolate missed: its subscribers resume by id themselves.
      this.end()
    }
  }

  private received(id: string, data: string) {
    if (epochOf(id) !== this.epoch) return this.end()
    const seq = seqOf(id)
    if (seq <= this.lastSeq) return
    this.lastSeq = seq
    let oldest = seq - 1
    for (const member of this.members) if (member.seq < oldest) oldest = member.seq
    let taken = 0
    while (taken < this.log.length && this.log[taken]!.seq <= oldest) taken++
    if (taken > 0) this.log = this.log.slice(taken)
    this.log.push({ seq, id, data })
    for (const member of this.members) wake(member)
  }

  /** The stream's frames after `lastEventId`, from the object, before the member's first live frame. */
  private async replay(member: Member, lastEventId: string) {
    const stream = member.source()
    const first = await stream.resume(lastEventId, REPLAY_PAGE_BYTES)
    if (epochOf(first.id) !== this.epoch) throw new Error("The event stream restarted")
    const entries = [...first.entries]
    for (let page = first; page.more; ) {
      page = await stream.resume(entries.at(-1)!.id, REPLAY_PAGE_BYTES)
      // The window moved past the replay while it was read: the subscriber resumes again and learns of the gap.
      if (page.status !== "ok") throw new Error("The replay fell out of the stream's window")
      entries.push(...page.entries)
    }
    if (this.ended || member.left) throw new Error("The event stream ended")
    member.sink.open(first.status, first.id, entries.length)
    for (const entry of entries) member.sink.event(entry.id, entry.data)
    // Live frames up to where the replay ended are already delivered.
    member.seq = Math.max(member.seq, seqOf(entries.at(-1)?.id ?? first.id))
  }

  /** Delivers, in the member's own request, every frame it has not had, until it leaves or the stream ends. */
  private async pump(member: Member) {
    member.pumping = true
    while (!member.left) {
      const frames = this.framesAfter(member.seq)
      if (frames.length > 0) {
        member.seq = frames.at(-1)!.seq
        if (member.sink.events) member.sink.events(frames)
        else for (const frame of frames) member.sink.event(frame.id, frame.data)
        continue
      }
      // Frames received before the end (a deleted session's last one) are delivered first.
      if (this.ended) {
        member.sink.close()
        this.leave(member)
        return
      }
      if (this.carrier === member && !this.socket) {
        await this.carry(member).catch(() => this.end())
        continue
      }
      await new Promise<void>((resolve) => (member.wake = resolve))
    }
  }

  private framesAfter(seq: number): Frame[] {
    let start = this.log.length
    while (start > 0 && this.log[start - 1]!.seq > seq) start--
    return start === this.log.length ? [] : this.log.slice(start)
  }

  private leave(member: Member) {
    if (member.left) return
    member.left = true
    this.members.delete(member)
    wake(member)
    if (this.carrier !== member) return
    const socket = this.socket
    this.socket = undefined
    if (socket) close(socket)
    // The next carrier opens its socket from its own pump; before any socket said where the stream stands, no one can.
    const next = this.epoch ? [...this.members].find((candidate) => candidate.pumping) : undefined
    this.carrier = next
    if (next) wake(next)
    else this.end()
  }

  private end() {
    if (this.ended) return
    this.ended = true
    this.forget()
    const socket = this.socket
    this.socket = undefined
    if (socket) close(socket)
    const error = new Error("The event stream ended")
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(error)
    for (const member of this.members) wake(member)
  }
}

function wake(member: Member) {
  const resolve = member.wake
  member.wake = undefined
  resolve?.()
}

function close(socket: WebSocket) {
  try {
    socket.close(1000, "subscriber left")
  } catch {
    // already closed
  }
}
