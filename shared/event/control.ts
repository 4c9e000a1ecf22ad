import { Identifier } from "../id.ts"

/** How a stream wraps its connected and heartbeat frames: as they are, or as `{payload}` like /global/event's frames. */
export type ControlWrap = "bare" | "payload"

export function controlFrame(wrap: ControlWrap, type: "server.connected" | "server.heartbeat", properties: Record<string, unknown>): string {
  const payload = JSON.stringify({ id: Identifier.ascending("event"), type, properties })
  return wrap === "payload" ? `{"payload":${payload}}` : payload
}
