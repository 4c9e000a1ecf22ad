import type { Session, SessionStatus } from "./schema/session.ts"
import type { Message, MessageWithParts, Part } from "./schema/message.ts"
import type { Project } from "./schema/project.ts"
import type { Event } from "./schema/event.ts"
import type { StreamSink } from "./event/stream.ts"
import type { SseTransport } from "./event/sse.ts"
import type { Machine } from "./machine.ts"
import type { UpgradeWebSocket } from "hono/ws"
import type { TuiRequest } from "./schema/tui.ts"
import type { AppAssetCache } from "./webapp/cache.ts"
import type { McpService } from "./mcp/service.ts"

/**
 * The ports: everything runtime-specific that the routes need. `worker/` implements them with
 * Durable Objects, `local-agent/` with a durable log on disk; the routes in `shared/` see only these.
 */

/** Which of a directory's sessions a list keeps; the store applies it so a page never reads the whole directory. */
export interface SessionFilter {
  /** Only sessions without a parent. */
  roots?: boolean
  /** Only sessions updated at or after this time (ms). */
  start?: number
  /** Only sessions whose title is `LIKE '%' || search || '%'`, as upstream's SQLite tests it (see title-search.ts). */
  search?: string
  /** Order by update time instead of id: "desc" most recently updated first (ties: older id first), "asc" the reverse. */
  byUpdate?: "asc" | "desc"
  /** Skip this many of those that pass, in that order. */
  offset?: number
  /** At most this many (the newest, unless `byUpdate` orders otherwise). */
  limit?: number
}

export interface SessionStore {
  get(sessionID: string): Promise<Session | undefined>
  /** Sessions whose directory is `directory` that pass `filter`, newest first. */
  list(directory: string, filter?: SessionFilter): Promise<Session[]>
  /** Directories that have held a session (lists across projects read each of them). */
  directories(): Promise<string[]>
  /** Creates or replaces the session record and its entry in the directory's index. */
  put(session: Session): Promise<void>
  /** Removes the record, its messages and parts, and its index entry. */
  remove(session: Session): Promise<void>

  /** Messages in ascending id order; `before` excludes that id and everything after it; `limit` keeps the newest. */
  messages(sessionID: string, query: { limit?: number; before?: string }): Promise<MessageWithParts[]>
  message(sessionID: string, messageID: string): Promise<MessageWithParts | undefined>
  /** The session a message belongs to, for routes addressed by message id alone. */
  locateMessage(messageID: string): Promise<string | undefined>
  /** Stores a message together with its parts in one atomic write. */
  putMessage(message: Message, parts: Part[]): Promise<void>
  /** Removes a message with its parts (nothing when it is not there). */
  removeMessage(sessionID: string, messageID: string): Promise<void>
  /** Removes one part of a message (nothing when it is not there). */
  removePart(sessionID: string, messageID: string, partID: string): Promise<void>

  status(directory: string): Promise<Record<string, SessionStatus>>
  setStatus(directory: string, sessionID: string, status: SessionStatus): Promise<void>
}

/**
 * Small named records of a tenant (config, credentials, registries): JSON values under string keys, durable.
 * Keys are namespaced by their owner, e.g. `config`, `auth/<providerID>`, `mcp/<name>`.
 */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>
  put(key: string, value: unknown): Promise<void>
  /** False when there was nothing under the key. */
  delete(key: string): Promise<boolean>
  /**
   * Compare-and-swap: stores `next` only if the key still holds `expected` (undefined: nothing), compared as
   * JSON text, so pass back what `get` returned. False when another write came first: read again and retry.
   * Atomic against every other write to the key, on every instance.
   */
  swap(key: string, expected: unknown, next: unknown): Promise<boolean>
  /** Entries whose key starts with `prefix`, in key order. */
  list<T>(prefix: string): Promise<[string, T][]>
}

/**
 * The TUI control queue: server-side code asks the attached TUI something and waits for the answer, which
 * the TUI fetches with `GET /tui/control/next` and returns with `POST /tui/control/response`. One queue per
 * tenant: in memory on Node, in the tenant's GlobalObject on the edge (so every Worker instance shares it).
 */
export interface TuiControlQueue {
  /** Queues the request and resolves with the TUI's answer; rejects with TuiControlTimeoutError after `timeoutMs`. */
  call(request: TuiRequest, timeoutMs?: number): Promise<unknown>
  /** The oldest queued request, waiting up to `timeoutMs` for one; undefined when none came. */
  next(timeoutMs: number): Promise<TuiRequest | undefined>
  /** Hands `body` to the oldest request handed out by `next` and not answered yet; false when none waits. */
  respond(body: unknown): Promise<boolean>
}

/**
 * Encrypts secrets (provider credentials) before they reach storage: `seal` gives an opaque string that only
 * `open` on the same runtime, with the same key, turns back into the text. Either may throw a NamedError
 * when the runtime has no key to use.
 */
export interface Sealer {
  seal(text: string): Promise<string>
  open(sealed: string): Promise<string>
}

export interface ProjectStore {
  /** The project record whose worktree is `worktree`. */
  get(worktree: string): Promise<Project | undefined>
  put(project: Project): Promise<void>
  list(): Promise<Project[]>
  find(projectID: string): Promise<Project | undefined>
}

/** What a directory belongs to: git root commit and toplevel where there is one, otherwise the global project. */
export interface ProjectIdentity {
  id: string
  worktree: string
  vcs?: "git"
}

export type StreamKey =
  | { kind: "global" }
  | { kind: "directory"; directory: string }
  | { kind: "session"; sessionID: string }

export interface EventHub {
  /** Appends the event to its session's stream (if any), its directory's stream and the global stream. */
  publish(directory: string, event: Event): Promise<void>
  /** Attaches `sink` to a stream, replaying after `lastEventId`; resolves to the detach function. */
  subscribe(key: StreamKey, lastEventId: string | undefined, sink: StreamSink): Promise<() => void>
}

/**
 * Runs agent turns (shared/turn/loop.ts) where this runtime keeps them: in the local agent's process, in the
 * session's Durable Object on the edge, so a turn outlives the request that started it.
 */
export interface Runner {
  /** Resolves with the assistant message that answers `userID`: starts the session's turn, or waits for the running one. */
  run(ports: Ports, sessionID: string, userID: string): Promise<MessageWithParts>
  /** Stops the session's turn and drops its queue; false when no turn runs. */
  abort(ports: Ports, sessionID: string): Promise<boolean>
}

/**
 * Share links of this runtime's sessions: a link reaches one session, read-only, without a token. The edge
 * keeps them itself; the local server's come from its paired edge (a later increment; until then it refuses).
 */
export interface ShareLinks {
  /** A new link to the session, with a fresh unguessable id; any earlier link of it is dead. `origin` is the request's, the link's host by default. */
  create(sessionID: string, origin: string): Promise<{ url: string }>
  /** Kills the session's link at once (nothing when it had none). */
  remove(sessionID: string): Promise<void>
}

export interface Clock {
  now(): number
}

export interface Logger {
  info(message: string, extra?: Record<string, unknown>): void
  warn(message: string, extra?: Record<string, unknown>): void
  error(message: string, extra?: Record<string, unknown>): void
}

export interface ServerConfig {
  version: string
  /** Directory used when a request names none. */
  defaultDirectory: string
  auth?: { username: string; password: string }
  /** Extra allowed CORS origins (`--cors`). */
  corsOrigins: string[]
  maxBodyBytes: number
  heartbeatMs: number
  /** Per-subscriber bound on bytes queued for a slow SSE client before it is closed. */
  maxSubscriberBufferBytes: number
  /** Where tools run, as the model is told (`linux`, `darwin`...). */
  platform: string
  /** How many times a model call that failed with 429, 5xx or a network fault is tried again. */
  modelRetries: number
  /** Where the official web app's files come from (`OPENCODE_APP_URL`). */
  appUrl: string
}

export interface Ports {
  config: ServerConfig
  sessions: SessionStore
  projects: ProjectStore
  records: KeyValueStore
  /** Encryption at rest for credentials kept in `records`. */
  sealer: Sealer
  tuiControl: TuiControlQueue
  hub: EventHub
  /** How SSE bytes reach the client (a web ReadableStream unless the runtime has something faster). */
  sseTransport: SseTransport
  runner: Runner
  shareLinks: ShareLinks
  clock: Clock
  log: Logger
  resolveProject(directory: string): Promise<ProjectIdentity>
  /** The machine's terminals, files and search; absent on the edge until a machine is paired. */
  machine?: Machine
  /** Hono's WebSocket upgrade for this runtime. */
  upgradeWebSocket: UpgradeWebSocket
  /** The web app's files between requests. */
  appCache: AppAssetCache
  /** A setting of the server's environment (the process's on Node, the Worker's vars and secrets on the edge): provider API keys. */
  env(name: string): string | undefined
  /** How the server reaches the network over HTTP: model providers and the webfetch tool (on the edge, a provider on the user's own network goes through the machine). */
  fetch: typeof fetch
  /** The remote MCP servers (`type: "remote"`), called from this server (local ones run on the machine). */
  mcp: McpService
  /** The user's browser and a loopback listener for OAuth redirects; only a server on the user's own computer has them. */
  browserAuth?: BrowserAuth
  /** Keeps work alive after the response is sent (Workers' waitUntil; a no-op holder on Node). */
  background(task: Promise<unknown>): void
}

/** Authorizing in the user's browser, on the computer this server runs on (upstream's `/mcp/:name/auth/authenticate`). */
export interface BrowserAuth {
  /** Opens `url` in the user's browser; rejects when no browser could be opened. */
  open(url: string): Promise<void>
  /**
   * Listens at `redirectUri` (a loopback URL) for the browser the authorization server sends back with `state`;
   * resolves once listening. `code` is then the code it brought, or rejects with the error it brought (or when
   * nobody came back in time).
   */
  listen(redirectUri: string, state: string): Promise<{ code: Promise<string> }>
}
