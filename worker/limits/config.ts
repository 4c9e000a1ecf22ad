import { numberVar, type Env } from "../env.ts"

/** Per-tenant limits of the edge, from wrangler vars; the local server has none (it is the user's own). */
export interface TenantLimits {
  /** Requests per second (a bucket that holds one second's worth, so short bursts pass). */
  rps: number
  /** Open SSE streams (`/event`, `/global/event`, `/session/:id/event`). */
  streams: number
  /** Terminals on the tenant's machine started through the edge. */
  terminals: number
  /** Sessions running an agent turn at once. */
  turns: number
  /** Bytes the tenant's Durable Objects hold (their SQLite databases). */
  storedBytes: number
}

export const DEFAULT_LIMITS: TenantLimits = {
  rps: 100,
  streams: 20,
  terminals: 10,
  turns: 10,
  storedBytes: 1024 * 1024 * 1024,
}

export function tenantLimits(env: Env): TenantLimits {
  return {
    rps: numberVar(env.OPENCODE_TENANT_RPS, DEFAULT_LIMITS.rps),
    streams: numberVar(env.OPENCODE_TENANT_STREAMS, DEFAULT_LIMITS.streams),
    terminals: numberVar(env.OPENCODE_TENANT_TERMINALS, DEFAULT_LIMITS.terminals),
    turns: numberVar(env.OPENCODE_TENANT_TURNS, DEFAULT_LIMITS.turns),
    storedBytes: numberVar(env.OPENCODE_TENANT_STORED_BYTES, DEFAULT_LIMITS.storedBytes),
  }
}

/** A client that leaves this many heartbeats of its event stream untaken has left (see clientStream). */
export const STALLED_AFTER_HEARTBEATS = 3
/** A stream's lease lapses this long after its Worker last renewed it (it renews at a third of this). */
export const STREAM_LEASE_MS = 60_000
/** A turn's lease lapses this long after its session object last renewed it (its watchdog renews every 15 s). */
export const TURN_LEASE_MS = 45_000
