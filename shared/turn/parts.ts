import { Bus } from "../domain/bus.ts"
import { Identifier } from "../id.ts"
import type { Ports } from "../ports.ts"
import type { AssistantMessage, Part } from "../schema/message.ts"

/** How often a streaming part is announced with `message.part.updated` and its `delta` (for the seed's clients). */
const STREAM_UPDATE_MS = 100

type PartOf<T extends Part["type"]> = Extract<Part, { type: T }>
type PartFields<T extends Part["type"]> = Omit<PartOf<T>, "id" | "sessionID" | "messageID" | "type">

/**
 * The parts of one assistant message as a step writes them: each change is stored with the message and
 * announced (`message.part.updated`); streamed text is announced as `message.part.delta` (upstream 1.18) and
 * stored once its part ends, so a long reply costs one write per part rather than one per chunk. Clients of
 * the seed's form read streaming from `message.part.updated` carrying `delta`: at most every
 * STREAM_UPDATE_MS a streaming part is announced that way too, with the text added since its last update.
 */
export class StepParts {
  private readonly parts = new Map<string, Part>()
  /** Per streaming part: text not yet announced on a `message.part.updated`, and when that last happened. */
  private readonly unannounced = new Map<string, { text: string; at: number }>()
  /** The message is stored and announced with its first part (one write fewer before the model is called). */
  private announced = false

  constructor(
    private readonly ports: Ports,
    private readonly directory: string,
    private message: AssistantMessage,
  ) {}

  get info(): AssistantMessage {
    return this.message
  }

  list(): Part[] {
    return [...this.parts.values()]
  }

  /**
   * Ends the message in one write: its last parts (`step-finish`, then the `patch` of the files the step changed),
   * then the message as finished and as completed, announced in that order (upstream announces both states).
   */
  async finish(finished: AssistantMessage, completedAt: number, last?: PartFields<"step-finish">, patch?: PartFields<"patch">): Promise<void> {
    const closing = [last && this.create("step-finish", last), patch && this.create("patch", patch)].filter((part) => part !== undefined)
    const completed = { ...finished, time: { ...finished.time, completed: completedAt } }
    for (const part of closing) this.parts.set(part.id, part)
    await this.ports.sessions.putMessage(completed, closing)
    await this.announceCreated()
    for (const part of closing) await this.announce(part)
    for (const state of [finished, completed]) {
      this.message = state
      await Bus.publish(this.ports, this.directory, "message.updated", { sessionID: state.sessionID, info: state })
    }
  }

  async add<T extends Part["type"]>(type: T, fields: PartFields<T>): Promise<PartOf<T>> {
    const part = this.create(type, fields)
    await this.save(part)
    return part
  }

  async save(part: Part): Promise<void> {
    this.parts.set(part.id, part)
    await this.ports.sessions.putMessage(this.message, [part])
    await this.announceCreated()
    const pending = this.unannounced.get(part.id)
    this.unannounced.delete(part.id)
    await this.announce(part, pending?.text || undefined)
  }

  private create<T extends Part["type"]>(type: T, fields: PartFields<T>): PartOf<T> {
    return {
      id: Identifier.ascending("part", this.ports.clock.now()),
      sessionID: this.message.sessionID,
      messageID: this.message.id,
      ...fields,
      type,
    } as unknown as PartOf<T>
  }

  /** The new message's `message.updated`, once, before anything of it. */
  private async announceCreated(): Promise<void> {
    if (this.announced) return
    this.announced = true
    await Bus.publish(this.ports, this.directory, "message.updated", { sessionID: this.message.sessionID, info: this.message })
  }

  /** Appends streamed text to a text or reasoning part: announced now, stored when the part is saved. */
  async append(part: PartOf<"text"> | PartOf<"reasoning">, delta: string): Promise<void> {
    part.text += delta
    await Bus.publish(this.ports, this.directory, "message.part.delta", {
      sessionID: part.sessionID,
      messageID: part.messageID,
      partID: part.id,
      field: "text",
      delta,
    })
    const now = this.ports.clock.now()
    const pending = this.unannounced.get(part.id) ?? { text: "", at: now }
    pending.text += delta
    this.unannounced.set(part.id, pending)
    if (now - pending.at < STREAM_UPDATE_MS) return
    this.unannounced.set(part.id, { text: "", at: now })
    await this.announce({ ...part }, pending.text)
  }

  private async announce(part: Part, delta?: string): Promise<void> {
    const time = this.ports.clock.now()
    await Bus.publish(this.ports, this.directory, "message.part.updated", { sessionID: part.sessionID, part, time, ...(delta ? { delta } : {}) })
  }
}
