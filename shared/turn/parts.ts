import { Bus } from "../domain/bus.ts"
import { Identifier } from "../id.ts"
import type { Ports } from "../ports.ts"
import type { AssistantMessage, Part } from "../schema/message.ts"

type PartOf<T extends Part["type"]> = Extract<Part, { type: T }>
type PartFields<T extends Part["type"]> = Omit<PartOf<T>, "id" | "sessionID" | "messageID" | "type">

/**
 * The parts of one assistant message as a step writes them: each change is stored with the message and
 * announced (`message.part.updated`); streamed text is announced as `message.part.delta` and stored once its
 * part ends, so a long reply costs one write per part rather than one per chunk.
 */
export class StepParts {
  private readonly parts = new Map<string, Part>()

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

  /** Stores and announces the message itself (created, finished, completed). */
  async saveMessage(message: AssistantMessage): Promise<void> {
    this.message = message
    await this.ports.sessions.putMessage(message, [])
    await Bus.publish(this.ports, this.directory, "message.updated", { sessionID: message.sessionID, info: message })
  }

  async add<T extends Part["type"]>(type: T, fields: PartFields<T>): Promise<PartOf<T>> {
    const part = {
      id: Identifier.ascending("part", this.ports.clock.now()),
      sessionID: this.message.sessionID,
      messageID: this.message.id,
      ...fields,
      type,
    } as unknown as PartOf<T>
    await this.save(part)
    return part
  }

  async save(part: Part): Promise<void> {
    this.parts.set(part.id, part)
    await this.ports.sessions.putMessage(this.message, [part])
    await this.announce(part)
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
  }

  private async announce(part: Part): Promise<void> {
    await Bus.publish(this.ports, this.directory, "message.part.updated", { sessionID: part.sessionID, part, time: this.ports.clock.now() })
  }
}
