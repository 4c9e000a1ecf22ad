import type { DirectoryObject } from "./objects/directory.ts"
import type { GlobalObject } from "./objects/global.ts"
import type { SessionObject } from "./objects/session.ts"

/** Bindings and vars from wrangler.toml; every OPENCODE_* var is optional. */
export interface Env {
  SESSIONS: DurableObjectNamespace<SessionObject>
  DIRECTORIES: DurableObjectNamespace<DirectoryObject>
  GLOBAL: DurableObjectNamespace<GlobalObject>
  OPENCODE_SERVER_PASSWORD?: string
  OPENCODE_SERVER_USERNAME?: string
  OPENCODE_DEFAULT_DIRECTORY?: string
  /** Extra allowed CORS origins, comma-separated. */
  OPENCODE_CORS?: string
  OPENCODE_MAX_BODY_BYTES?: string
  OPENCODE_HEARTBEAT_MS?: string
  OPENCODE_REPLAY_WINDOW?: string
  OPENCODE_SSE_BUFFER_BYTES?: string
}

export function numberVar(value: string | undefined, fallback: number): number {
  const parsed = Number(value)
  return value !== undefined && value !== "" && Number.isInteger(parsed) && parsed > 0 ? parsed : fallback
}

export const replayWindow = (env: Env) => numberVar(env.OPENCODE_REPLAY_WINDOW, 1000)
