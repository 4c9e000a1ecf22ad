import type { DirectoryObject } from "./objects/directory.ts"
import type { GlobalObject } from "./objects/global.ts"
import type { SessionObject } from "./objects/session.ts"
import type { MachineObject } from "./objects/machine.ts"
import type { RegistryObject } from "./objects/registry.ts"
import type { ShareObject } from "./objects/share.ts"

/** Bindings and vars from wrangler.toml; every OPENCODE_* var is optional. */
export interface Env {
  SESSIONS: DurableObjectNamespace<SessionObject>
  DIRECTORIES: DurableObjectNamespace<DirectoryObject>
  GLOBAL: DurableObjectNamespace<GlobalObject>
  MACHINES: DurableObjectNamespace<MachineObject>
  REGISTRY: DurableObjectNamespace<RegistryObject>
  SHARES: DurableObjectNamespace<ShareObject>
  OPENCODE_SERVER_PASSWORD?: string
  OPENCODE_SERVER_USERNAME?: string
  OPENCODE_DEFAULT_DIRECTORY?: string
  /** Extra allowed CORS origins, comma-separated. */
  OPENCODE_CORS?: string
  /** Where share links point (`<base>/s/<id>`); default: the origin the share was asked at. */
  OPENCODE_SHARE_URL?: string
  OPENCODE_MAX_BODY_BYTES?: string
  OPENCODE_HEARTBEAT_MS?: string
  OPENCODE_REPLAY_WINDOW?: string
  OPENCODE_SSE_BUFFER_BYTES?: string
  /** Where the official web app's files come from (default https://app.opencode.ai). */
  OPENCODE_APP_URL?: string
  /** Retries of a model call that failed with 429, 5xx or a network fault (default 4; 0 turns them off). */
  OPENCODE_MODEL_RETRIES?: string
  /**
   * The tenant of requests that carry no client token. Unset (the default, and right for a deployed edge),
   * such requests get 401; `npm run dev` sets it so a local edge works without pairing.
   */
  OPENCODE_OPEN_TENANT?: string
  /** Tunnel limits: per-request timeout, requests in flight per machine, largest request body sent down. */
  OPENCODE_TUNNEL_TIMEOUT_MS?: string
  OPENCODE_TUNNEL_MAX_CONCURRENT?: string
  OPENCODE_TUNNEL_MAX_FRAME_BYTES?: string
  /** How long an agent may go without a ping before its connection is taken for half-open (default 45 s). */
  OPENCODE_TUNNEL_SILENCE_MS?: string
  /**
   * Per-tenant limits (worker/limits/): requests per second, open event streams, terminals, sessions running a
   * turn, and stored bytes. Defaults in worker/limits/config.ts.
   */
  OPENCODE_TENANT_RPS?: string
  OPENCODE_TENANT_STREAMS?: string
  OPENCODE_TENANT_TERMINALS?: string
  OPENCODE_TENANT_TURNS?: string
  OPENCODE_TENANT_STORED_BYTES?: string
  /** Secret (`wrangler secret put`) from which credentials' encryption keys are derived; unset, none are stored. */
  OPENCODE_SECRETS_KEY?: string
}

export function corsOrigins(env: Env): string[] {
  return (env.OPENCODE_CORS ?? "").split(",").map((origin) => origin.trim()).filter(Boolean)
}

export function numberVar(value: string | undefined, fallback: number): number {
  const parsed = Number(value)
  return value !== undefined && value !== "" && Number.isInteger(parsed) && parsed > 0 ? parsed : fallback
}

export const replayWindow = (env: Env) => numberVar(env.OPENCODE_REPLAY_WINDOW, 1000)

/** How often an event stream writes `server.heartbeat` when nothing else happens. */
export const heartbeatMs = (env: Env) => numberVar(env.OPENCODE_HEARTBEAT_MS, 30_000)

/** How much an event stream's subscriber may leave unread before it is dropped. */
export const sseBufferBytes = (env: Env) => numberVar(env.OPENCODE_SSE_BUFFER_BYTES, 4 * 1024 * 1024)
