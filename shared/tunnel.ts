import { z } from "zod"
import { Path } from "./path.ts"
import { Event } from "./schema/event.ts"

/**
 * Frames on the tunnel: one WebSocket the local agent dials out to the edge. The edge sends requests and
 * WebSocket relays for the machine; the agent answers each by id. Every frame is one JSON text message;
 * bodies and binary WebSocket data travel as base64. `ping` and `pong` are bare strings, not frames, so the
 * edge can answer them without waking its Durable Object.
 */
export namespace Tunnel {
  export const PING = "ping"
  export const PONG = "pong"
  /** The close code of an agent connection that a newer one of the same machine replaced: it must not come back. */
  export const REPLACED = 4000
  /** The most project worktrees a machine announces (the most recently updated ones). */
  export const MAX_PROJECTS = 100

  const Headers = z.array(z.tuple([z.string(), z.string()]))

  /** Edge → agent. */
  export const Down = z.discriminatedUnion("t", [
    z.object({
      t: z.literal("request"),
      id: z.number().int(),
      method: z.string(),
      /** Path and query, e.g. `/file/content?path=a.ts&directory=%2Fsrc`. */
      path: z.string(),
      headers: Headers,
      body: z.string().optional(),
    }),
    z.object({ t: z.literal("socket.open"), id: z.number().int(), path: z.string() }),
    z.object({ t: z.literal("socket.data"), id: z.number().int(), data: z.string(), binary: z.boolean() }),
    z.object({ t: z.literal("socket.close"), id: z.number().int(), code: z.number().int(), reason: z.string() }),
  ])
  export type Down = z.infer<typeof Down>

  const AbsolutePath = z.string().min(1).max(4096).refine(Path.isAbsolute, "an absolute path")

  /**
   * Agent → edge, first on each connection: the directories the machine serves (its default directory and the
   * worktrees of the projects it knows), so the edge can offer them to its clients while the machine is away too.
   */
  export const Hello = z.object({
    t: z.literal("hello"),
    directory: AbsolutePath,
    /** Its git projects, named as the machine names them (root commit and toplevel). */
    projects: z.array(z.object({ id: z.string().min(1).max(256), worktree: AbsolutePath, vcs: z.literal("git").optional() })).max(MAX_PROJECTS),
  })
  export type Hello = z.infer<typeof Hello>

  /** Agent → edge. A response streams as head, chunks, end (or error). */
  export const Up = z.discriminatedUnion("t", [
    Hello,
    z.object({ t: z.literal("response.head"), id: z.number().int(), status: z.number().int(), headers: Headers }),
    z.object({ t: z.literal("response.chunk"), id: z.number().int(), data: z.string() }),
    z.object({ t: z.literal("response.end"), id: z.number().int() }),
    z.object({ t: z.literal("response.error"), id: z.number().int(), message: z.string() }),
    z.object({ t: z.literal("socket.data"), id: z.number().int(), data: z.string(), binary: z.boolean() }),
    z.object({ t: z.literal("socket.close"), id: z.number().int(), code: z.number().int(), reason: z.string() }),
    /** Something happened on the machine (a terminal exited, a file changed): for the edge's event streams. */
    z.object({ t: z.literal("event"), directory: z.string(), payload: Event }),
  ])
  export type Up = z.infer<typeof Up>

  /** The events that come from the machine itself, which the agent forwards to the edge. */
  export function isMachineEvent(type: string): boolean {
    return /^(pty|file|vcs|lsp)\./.test(type)
  }

  export function encodeBase64(bytes: Uint8Array): string {
    let binary = ""
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    return btoa(binary)
  }

  export function decodeBase64(text: string): Uint8Array {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0))
  }
}
