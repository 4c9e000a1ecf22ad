import { SharingEdgeError, SharingNeedsPairingError } from "../../shared/domain/share.ts"
import type { KeyValueStore, Logger, ShareLinks } from "../../shared/ports.ts"
import type { Event } from "../../shared/schema/event.ts"
import type { ShareData, ShareDataItem } from "../../shared/schema/share.ts"
import { edgeRequest, type EdgeAnswer } from "../edge-request.ts"
import type { MachineFile } from "../pair.ts"

const HOW_TO_PAIR =
  "Share links are served by an edge, and this server is not paired with one. Pair this machine with " +
  "`npm run agent -- pair --edge <url>`, then share the session again."

/** What sharing a session at the edge left here: the link, and the secret every later sync and the unshare need. */
interface ShareRecord {
  id: string
  secret: string
  url: string
  edge: string
}

const RECORD_PREFIX = "share/"
/** Changes to a shared session are gathered this long and sent together, as upstream's share sync does. */
const SYNC_DEBOUNCE_MS = 1000
const EDGE_TIMEOUT_MS = 15_000

interface Pending {
  items: Map<string, ShareDataItem>
  /** Something was deleted (or a sync failed): the next sync sends the whole session and the edge starts over. */
  full: boolean
  timer: ReturnType<typeof setTimeout>
}

export interface EdgeSharesOptions {
  records: KeyValueStore
  /** The pairing (`machine.json`), read at each share so a machine paired after start-up shares too. */
  machine(): Promise<MachineFile | undefined>
  /** The session as a share shows it (Sharing.data). */
  data(sessionID: string): Promise<ShareData>
  log: Logger
}

/**
 * The local server's share links, served by the edge it is paired with (upstream's ShareNext): the edge makes
 * the link and answers a per-share secret; from then on every change to the session is sent there, debounced,
 * under that secret, and unsharing removes it there. Without a pairing, sharing says how to get one.
 */
export class EdgeShares implements ShareLinks {
  private readonly pending = new Map<string, Pending>()
  /** One sync at a time per session, in order. */
  private readonly sending = new Map<string, Promise<void>>()

  private constructor(
    private readonly options: EdgeSharesOptions,
    private readonly shared: Map<string, ShareRecord>,
  ) {}

  static async open(options: EdgeSharesOptions): Promise<EdgeShares> {
    const records = await options.records.list<ShareRecord>(RECORD_PREFIX)
    return new EdgeShares(options, new Map(records.map(([key, record]) => [key.slice(RECORD_PREFIX.length), record])))
  }

  async create(sessionID: string): Promise<{ url: string }> {
    const machine = await this.options.machine()
    if (!machine) throw new SharingNeedsPairingError({ message: HOW_TO_PAIR })
    await this.remove(sessionID)
    const created = (await edgeCall(`${machine.edge}/edge/share`, "POST", { sessionID }, machine.secret)) as Omit<ShareRecord, "edge">
    const record: ShareRecord = { id: created.id, secret: created.secret, url: created.url, edge: machine.edge }
    await this.options.records.put(RECORD_PREFIX + sessionID, record)
    this.shared.set(sessionID, record)
    await this.sync(record, await this.options.data(sessionID), true)
    return { url: record.url }
  }

  async remove(sessionID: string): Promise<void> {
    const record = this.shared.get(sessionID)
    if (!record) return
    this.cancel(sessionID)
    await this.sending.get(sessionID)
    try {
      await edgeCall(`${record.edge}/edge/share/${record.id}`, "DELETE", { secret: record.secret })
    } catch (error) {
      // Gone at the edge already: the link is dead, which is what was asked.
      if (!(error instanceof SharingEdgeError && error.data.status === 404)) throw error
    }
    this.shared.delete(sessionID)
    await this.options.records.delete(RECORD_PREFIX + sessionID)
  }

  /** Every published event passes here; a shared session's changes are gathered for its next sync. */
  observe(event: Event): void {
    const properties = event.properties as { sessionID?: string }
    if (!properties.sessionID || !this.shared.has(properties.sessionID)) return
    switch (event.type) {
      case "session.updated":
        return this.gather(event.properties.sessionID, { type: "session", data: event.properties.info }, "session")
      case "message.updated":
        return this.gather(event.properties.sessionID, { type: "message", data: event.properties.info }, event.properties.info.id)
      case "message.part.updated": {
        const part = event.properties.part
        return this.gather(event.properties.sessionID, { type: "part", data: part }, `${part.messageID}/${part.id}`)
      }
      case "message.removed":
      case "message.part.removed":
        return this.gather(event.properties.sessionID)
    }
  }

  /** Sends what is gathered now (the server is stopping). */
  async close(): Promise<void> {
    for (const sessionID of [...this.pending.keys()]) this.flush(sessionID)
    await Promise.allSettled(this.sending.values())
  }

  /** Without an item: something was deleted, so the next sync is a full one. */
  private gather(sessionID: string, item?: ShareDataItem, key?: string): void {
    let pending = this.pending.get(sessionID)
    if (!pending) {
      pending = { items: new Map(), full: false, timer: setTimeout(() => this.flush(sessionID), SYNC_DEBOUNCE_MS) }
      this.pending.set(sessionID, pending)
    }
    if (item && key) {
      // Re-inserted so items go in the order of their latest change: a message before its new parts.
      pending.items.delete(key)
      pending.items.set(key, item)
    } else pending.full = true
  }

  private cancel(sessionID: string): void {
    clearTimeout(this.pending.get(sessionID)?.timer)
    this.pending.delete(sessionID)
  }

  private flush(sessionID: string): void {
    const pending = this.pending.get(sessionID)
    const record = this.shared.get(sessionID)
    this.cancel(sessionID)
    if (!pending || !record) return
    const previous = this.sending.get(sessionID) ?? Promise.resolve()
    const next = previous.then(async () => {
      if (this.shared.get(sessionID) !== record) return
      const items = pending.full ? await this.options.data(sessionID) : [...pending.items.values()]
      await this.sync(record, items, pending.full).catch((error) => {
        this.options.log.warn("Share sync failed; the next one sends the whole session", { sessionID, error: String(error) })
        this.gather(sessionID)
      })
    })
    this.sending.set(sessionID, next)
    void next.finally(() => {
      if (this.sending.get(sessionID) === next) this.sending.delete(sessionID)
    })
  }

  private async sync(record: ShareRecord, data: ShareData, replace: boolean): Promise<void> {
    await edgeCall(`${record.edge}/edge/share/${record.id}/sync`, "POST", { secret: record.secret, data, replace })
  }
}

/** One call to the edge's share API; any failure is a SharingEdgeError naming the edge's answer. */
async function edgeCall(url: string, method: string, body: unknown, bearer?: string): Promise<unknown> {
  let answer: EdgeAnswer
  try {
    answer = await edgeRequest(url, {
      method,
      headers: { "Content-Type": "application/json", ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(EDGE_TIMEOUT_MS),
    })
  } catch (error) {
    throw new SharingEdgeError({ message: `The edge could not be reached (${new URL(url).origin}): ${String(error)}`, status: 0 })
  }
  if (!answer.ok) {
    const reason = answer.json?.data?.message ?? answer.text.slice(0, 200)
    const hint = answer.status === 401 ? " (the edge no longer knows this machine: pair again)" : ""
    throw new SharingEdgeError({ message: `The edge refused the share (${answer.status}): ${reason}${hint}`, status: answer.status })
  }
  return answer.json
}
