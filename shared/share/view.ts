import { Identifier } from "../id.ts"
import type { Message, Part } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import type { ShareData, ShareDataItem } from "../schema/share.ts"
import type { ShareMessage, ShareSnapshot } from "./snapshot.ts"

/** What one applied change touched: what a share's store rewrites and its page re-renders. */
export type ShareChange =
  | { kind: "session" }
  | { kind: "message"; id: string }
  | { kind: "part"; messageID: string; id: string }
  | { kind: "message.removed"; id: string }
  | { kind: "part.removed"; messageID: string; id: string }

interface Entry {
  info?: Message
  parts: Map<string, Part>
}

/**
 * A shared session as its viewers see it, kept current from either feed: the session's own events (a session
 * shared on the edge) or `{type, data}` items synced by a local server (upstream's share sync format).
 */
export class ShareView {
  session: Session | undefined
  private readonly entries = new Map<string, Entry>()

  static from(items: ShareData): ShareView {
    const view = new ShareView()
    for (const item of items) view.applyItem(item)
    return view
  }

  applyItem(item: ShareDataItem): ShareChange[] {
    switch (item.type) {
      case "session":
        this.session = item.data
        return [{ kind: "session" }]
      case "message":
        this.entry(item.data.id).info = item.data
        return [{ kind: "message", id: item.data.id }]
      case "part":
        this.entry(item.data.messageID).parts.set(item.data.id, item.data)
        return [{ kind: "part", messageID: item.data.messageID, id: item.data.id }]
    }
  }

  /** Applies one of the session's events (`{type, properties}`); events a share does not show change nothing. */
  applyEvent(event: { type: string; properties: any }): ShareChange[] {
    const properties = event.properties
    switch (event.type) {
      case "session.updated":
        return this.applyItem({ type: "session", data: properties.info })
      case "message.updated":
        return this.applyItem({ type: "message", data: properties.info })
      case "message.part.updated":
        return this.applyItem({ type: "part", data: properties.part })
      case "message.part.delta": {
        const part = this.entries.get(properties.messageID)?.parts.get(properties.partID) as Record<string, unknown> | undefined
        if (!part || typeof part[properties.field] !== "string") return []
        part[properties.field] += properties.delta
        return [{ kind: "part", messageID: properties.messageID, id: properties.partID }]
      }
      case "message.removed":
        if (!this.entries.delete(properties.messageID)) return []
        return [{ kind: "message.removed", id: properties.messageID }]
      case "message.part.removed":
        if (!this.entries.get(properties.messageID)?.parts.delete(properties.partID)) return []
        return [{ kind: "part.removed", messageID: properties.messageID, id: properties.partID }]
      default:
        return []
    }
  }

  /** Forgets everything, before a full sync replaces it (something was deleted at the source). */
  clear(): void {
    this.session = undefined
    this.entries.clear()
  }

  message(id: string): ShareMessage | undefined {
    const entry = this.entries.get(id)
    if (!entry?.info) return undefined
    return { info: entry.info, parts: [...entry.parts.values()].sort(Identifier.byId) }
  }

  part(messageID: string, id: string): Part | undefined {
    return this.entries.get(messageID)?.parts.get(id)
  }

  /** Messages in id (creation) order; a part whose message has not arrived yet waits unseen. */
  messages(): ShareMessage[] {
    const ids = [...this.entries.keys()].sort()
    return ids.flatMap((id) => this.message(id) ?? [])
  }

  snapshot(): ShareSnapshot | undefined {
    if (!this.session) return undefined
    const messages = this.messages()
    return { session: this.session, messages, busy: isBusy(messages) }
  }

  /** Undefined until the session itself has arrived. */
  data(): ShareData | undefined {
    return this.session && shareData(this.session, this.messages())
  }

  private entry(messageID: string): Entry {
    let entry = this.entries.get(messageID)
    if (!entry) {
      entry = { parts: new Map() }
      this.entries.set(messageID, entry)
    }
    return entry
  }
}

/** Upstream's share data shape: the session, then each message followed by its parts. */
export function shareData(session: Session, messages: ShareMessage[]): ShareData {
  const items: ShareData = [{ type: "session", data: session }]
  for (const { info, parts } of messages) {
    items.push({ type: "message", data: info })
    for (const part of parts) items.push({ type: "part", data: part })
  }
  return items
}


/** The agent is at work while the last message is an assistant's that has neither completed nor failed. */
function isBusy(messages: ShareMessage[]): boolean {
  const last = messages.at(-1)?.info
  return last?.role === "assistant" && last.time.completed === undefined && !last.error
}
