import type { ResumeStatus } from "../../shared/event/stream.ts"

/**
 * Frames on the WebSocket from a Durable Object's stream to the Worker that holds the SSE response:
 * `o <status> <id> <replayed>` once, then `e <id> <data>` per event. Ids never contain spaces; data is the frame's JSON as is.
 */
export namespace Wire {
  export function open(status: ResumeStatus, id: string, replayed: number): string {
    return `o ${status} ${id} ${replayed}`
  }

  export function event(id: string, data: string): string {
    return `e ${id} ${data}`
  }

  export type Frame =
    | { kind: "open"; status: ResumeStatus; id: string; replayed: number }
    | { kind: "event"; id: string; data: string }

  export function parse(frame: string): Frame | undefined {
    const first = frame.indexOf(" ")
    const second = frame.indexOf(" ", first + 1)
    if (frame.startsWith("o ")) {
      const [, status, id, replayed] = frame.split(" ")
      return { kind: "open", status: status as ResumeStatus, id: id ?? "", replayed: Number(replayed) || 0 }
    }
    if (frame.startsWith("e ") && second > 0) return { kind: "event", id: frame.slice(first + 1, second), data: frame.slice(second + 1) }
    return undefined
  }
}
