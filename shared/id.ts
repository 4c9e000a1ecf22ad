/**
 * Upstream-style identifiers: `prefix_` + 12 hex chars of (ms * 0x1000 + counter) + 14 base62 chars.
 * Descending ids invert the time bits so that newer ids sort first (used for sessions).
 */
export namespace Identifier {
  export const prefixes = {
    session: "ses",
    message: "msg",
    part: "prt",
    event: "evt",
    pty: "pty",
    question: "que",
    permission: "per",
  } as const
  export type Kind = keyof typeof prefixes

  const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
  let lastTimestamp = 0
  let counter = 0

  function randomBase62(length: number): string {
    const bytes = crypto.getRandomValues(new Uint8Array(length))
    let out = ""
    for (const byte of bytes) out += BASE62[byte % 62]
    return out
  }

  function create(kind: Kind, descending: boolean, timestamp: number): string {
    if (timestamp !== lastTimestamp) {
      lastTimestamp = timestamp
      counter = 0
    }
    counter++
    let value = BigInt(timestamp) * 0x1000n + BigInt(counter)
    if (descending) value = ~value
    let hex = ""
    for (let shift = 40n; shift >= 0n; shift -= 8n) {
      hex += Number((value >> shift) & 0xffn).toString(16).padStart(2, "0")
    }
    return `${prefixes[kind]}_${hex}${randomBase62(14)}`
  }

  export function ascending(kind: Kind, timestamp = Date.now()): string {
    return create(kind, false, timestamp)
  }

  export function descending(kind: Kind, timestamp = Date.now()): string {
    return create(kind, true, timestamp)
  }

  /** Records in id order: creation order for ascending ids, newest first for descending ones. */
  export const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
