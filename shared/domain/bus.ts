import { Identifier } from "../id.ts"
import type { Event, EventProperties, EventType } from "../schema/event.ts"
import type { Ports } from "../ports.ts"

export namespace Bus {
  /** Publishes an event to `directory`'s streams (and its session's and the global one), in call order. */
  export async function publish<T extends EventType>(
    ports: Ports,
    directory: string,
    type: T,
    properties: EventProperties<T>,
  ): Promise<void> {
    const event = { id: Identifier.ascending("event", ports.clock.now()), type, properties } as Event
    await ports.hub.publish(directory, event)
  }
}
