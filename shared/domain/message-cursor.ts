/**
 * Upstream's `before` cursor for a session's messages: base64url of `{"id","time"}` of the oldest message of the
 * page before, handed out in `x-next-cursor` and the `Link` header. A bare message id is taken too (our earlier API).
 */
export namespace MessageCursor {
  export function encode(message: { id: string; time: { created: number } }): string {
    return btoa(JSON.stringify({ id: message.id, time: message.time.created })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
  }

  /** The message id the cursor stands for; undefined when it is not a cursor. */
  export function decode(before: string): string | undefined {
    if (before.startsWith("msg")) return before
    try {
      const decoded: unknown = JSON.parse(atob(before.replace(/-/g, "+").replace(/_/g, "/")))
      const id = (decoded as { id?: unknown } | null)?.id
      return typeof id === "string" && id.startsWith("msg") ? id : undefined
    } catch {
      return undefined
    }
  }
}
