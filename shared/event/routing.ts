import type { Event } from "../schema/event.ts"
import type { StreamKey } from "../ports.ts"

/** The wire JSON of one published event for each stream it belongs to, serialised once. */
export interface EventFrames {
  sessionID?: string
  /** `{type, properties, id}` for /event and /session/:id/event. */
  local: string
  /** `{directory, payload}` for /global/event. */
  global: string
}

export function eventFrames(directory: string, event: Event): EventFrames {
  const local = JSON.stringify(event)
  const properties = event.properties as { sessionID?: unknown }
  return {
    sessionID: typeof properties.sessionID === "string" ? properties.sessionID : undefined,
    local,
    global: `{"directory":${JSON.stringify(directory)},"payload":${local}}`,
  }
}

/** A stable name for a stream; Durable Object names and in-memory maps both key on it. */
export function streamName(key: StreamKey): string {
  switch (key.kind) {
    case "global":
      return "global"
    case "directory":
      return `dir:${key.directory}`
    case "session":
      return `ses:${key.sessionID}`
  }
}
