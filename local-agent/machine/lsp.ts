import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process"
import { accessSync, constants, existsSync } from "node:fs"
import { readFile, realpath } from "node:fs/promises"
import { createRequire } from "node:module"
import { delimiter, dirname, extname, join, relative, sep } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { LspService, MachinePublish } from "../../shared/machine.ts"
import type { Logger } from "../../shared/ports.ts"
import type { LspStatus, Symbol as LspSymbol } from "../../shared/schema/machine.ts"
import { resolveInside } from "./confine.ts"

/**
 * Language servers for the local agent: one process per (server, root), started the first time a file of
 * its language is touched, spoken to in JSON-RPC over stdio (Content-Length framing). Diagnostics it
 * publishes are kept per file and announced as `lsp.client.diagnostics`. A server that dies is restarted
 * (at most MAX_RESTARTS a minute, then it stays in status "error" for a minute); `close()` sends
 * shutdown + exit to each, then kills its process group.
 */

const require = createRequire(import.meta.url)

interface ServerDefinition {
  id: string
  extensions: string[]
  /** Files or directories that mark a root (searched upwards from the file, up to the request's directory). */
  markers: string[]
  /** The command line, or undefined when the server is not installed. */
  command(): string[] | undefined
  initializationOptions?(): unknown
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

function resolveModule(id: string): string | undefined {
  try {
    return require.resolve(id)
  } catch {
    return undefined
  }
}

export const SERVERS: ServerDefinition[] = [
  {
    id: "typescript",
    extensions: [".ts", ".tsx", ".js", ".jsx", ".mts", ".cts", ".mjs", ".cjs"],
    markers: ["tsconfig.json", "jsconfig.json", "package.json"],
    command() {
      const cli = resolveModule("typescript-language-server/lib/cli.mjs")
      if (cli) return [process.execPath, cli, "--stdio"]
      const bin = onPath("typescript-language-server")
      return bin ? [bin, "--stdio"] : undefined
    },
    initializationOptions() {
      const tsserver = resolveModule("typescript/lib/tsserver.js")
      return tsserver ? { tsserver: { path: tsserver } } : {}
    },
  },
  {
    id: "pyright",
    extensions: [".py", ".pyi"],
    markers: ["pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "pyrightconfig.json"],
    command: () => (onPath("pyright-langserver") ? [onPath("pyright-langserver")!, "--stdio"] : undefined),
  },
  {
    id: "gopls",
    extensions: [".go"],
    markers: ["go.work", "go.mod"],
    command: () => (onPath("gopls") ? [onPath("gopls")!] : undefined),
  },
  {
    id: "rust",
    extensions: [".rs"],
    markers: ["Cargo.toml"],
    command: () => (onPath("rust-analyzer") ? [onPath("rust-analyzer")!] : undefined),
  },
]

const LANGUAGE_IDS: Record<string, string> = {
  ".ts": "typescript",
  ".mts": "typescript",
  ".cts": "typescript",
  ".tsx": "typescriptreact",
  ".js": "javascript",
  ".mjs": "javascript",
  ".cjs": "javascript",
  ".jsx": "javascriptreact",
  ".py": "python",
  ".pyi": "python",
  ".go": "go",
  ".rs": "rust",
}

/** Symbol kinds worth returning from a workspace search (as upstream): class, method, enum, interface, function, variable, constant, struct. */
const SYMBOL_KINDS = new Set([5, 6, 10, 11, 12, 13, 14, 23])
const MAX_SYMBOLS = 50
const MAX_RESTARTS = 3
const RESTART_WINDOW_MS = 60_000
const REQUEST_TIMEOUT_MS = 30_000
const SHUTDOWN_TIMEOUT_MS = 2_000

type Pending = { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }

/** JSON-RPC 2.0 over a child's stdio with LSP's Content-Length framing. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0)
  private nextId = 1
  private pending = new Map<number, Pending>()
  closed = false

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly onNotification: (method: string, params: any) => void,
    private readonly onRequest: (method: string, params: any) => unknown,
  ) {
    child.stdout.on("data", (chunk: Buffer) => this.receive(chunk))
    child.stdin.on("error", () => {}) // EPIPE after the server died; the exit handler deals with it
  }

  request<T = unknown>(method: string, params: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`language server connection closed (${method})`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`language server did not answer ${method} in ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      this.send({ jsonrpc: "2.0", id, method, params })
    })
  }

  notify(method: string, params: unknown) {
    if (!this.closed) this.send({ jsonrpc: "2.0", method, params })
  }

  /** Fails every request in flight (the process is gone). */
  dispose() {
    this.closed = true
    for (const [, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.reject(new Error("language server exited"))
    }
    this.pending.clear()
  }

  private send(message: unknown) {
    const body = Buffer.from(JSON.stringify(message), "utf8")
    try {
      this.child.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]))
    } catch {
      // the process is gone; its exit handler fails the pending requests
    }
  }

  private receive(chunk: Buffer) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n")
      if (headerEnd < 0) return
      const header = this.buffer.subarray(0, headerEnd).toString("ascii")
      const length = Number(header.match(/content-length:\s*(\d+)/i)?.[1])
      if (!Number.isFinite(length)) {
        // not a frame we understand: drop the header and go on
        this.buffer = this.buffer.subarray(headerEnd + 4)
        continue
      }
      const start = headerEnd + 4
      if (this.buffer.length < start + length) return
      const body = this.buffer.subarray(start, start + length).toString("utf8")
      this.buffer = this.buffer.subarray(start + length)
      let message: any
      try {
        message = JSON.parse(body)
      } catch {
        continue
      }
      this.dispatch(message)
    }
  }

  private dispatch(message: any) {
    if (message.method === undefined) {
      const pending = this.pending.get(message.id)
      if (!pending) return
      this.pending.delete(message.id)
      clearTimeout(pending.timer)
      if (message.error) pending.reject(new Error(`${message.error.message ?? "language server error"} (${message.error.code})`))
      else pending.resolve(message.result)
      return
    }
    if (message.id === undefined) {
      this.onNotification(message.method, message.params)
      return
    }
    let result: unknown = null
    try {
      result = this.onRequest(message.method, message.params) ?? null
    } catch {
      result = null
    }
    this.send({ jsonrpc: "2.0", id: message.id, result })
  }
}

interface OpenFile {
  /** The path as the client knows it (the directory joined with the relative path). */
  path: string
  version: number
  text: string
}

/** One language server process (and its successors after restarts) for one root. */
class LspClient {
  status: "starting" | "connected" | "error" = "starting"
  private child: ChildProcessWithoutNullStreams | undefined
  private connection: Connection | undefined
  private ready: Promise<void> | undefined
  private restarts: number[] = []
  private failedAt = 0
  private closing = false
  /** By file URI. */
  readonly open = new Map<string, OpenFile>()
  /** By the path as the client knows it. */
  readonly diagnostics = new Map<string, LspDiagnostic[]>()
  /** Directories whose streams hear about this server. */
  readonly directories = new Set<string>()
  /** Paths (as the client knows them) whose latest text was sent and not yet answered with diagnostics. */
  private readonly unanswered = new Set<string>()
  /** Called once when the next diagnostics for a path arrive. */
  private readonly awaiting = new Map<string, Set<() => void>>()

  constructor(
    readonly server: ServerDefinition,
    readonly root: string,
    private readonly publish: MachinePublish,
    private readonly log: Logger | undefined,
  ) {}

  get key() {
    return `${this.server.id}\0${this.root}`
  }

  /** Starts the process unless it runs (or is starting); an errored server is tried again after a minute. */
  start(): Promise<void> {
    if (this.closing) return Promise.reject(new Error("language servers are shutting down"))
    if (this.status === "error" && Date.now() - this.failedAt < RESTART_WINDOW_MS) {
      return Promise.reject(new Error(`language server ${this.server.id} failed`))
    }
    if (this.ready && this.status !== "error") return this.ready
    this.ready = this.spawn()
    return this.ready
  }

  private spawn(): Promise<void> {
    this.status = "starting"
    const command = this.server.command()
    if (!command) return this.fail(new Error(`${this.server.id} language server is not installed`))
    const [file, ...args] = command
    const child = spawn(file!, args, { cwd: this.root, stdio: "pipe", detached: true, env: process.env })
    this.child = child
    const connection = new Connection(
      child,
      (method, params) => this.notification(method, params),
      (method, params) => this.request(method, params),
    )
    this.connection = connection
    child.stderr.resume() // drained, or a chatty server would block on a full pipe
    child.once("error", (error) => this.log?.warn(`lsp ${this.server.id} could not start: ${error.message}`))
    child.once("close", (code, signal) => {
      connection.dispose()
      if (this.child !== child) return
      this.child = undefined
      // A server that dies while starting fails its initialize request instead (see fail()).
      if (this.closing || this.status !== "connected") return
      this.log?.warn(`lsp ${this.server.id} exited (${signal ?? code}) in ${this.root}`)
      this.restartAfterCrash()
    })

    const rootUri = pathToFileURL(this.root).href
    return connection
      .request("initialize", {
        processId: process.pid,
        clientInfo: { name: "opencode-edge-server" },
        rootPath: this.root,
        rootUri,
        workspaceFolders: [{ uri: rootUri, name: this.root.split(sep).pop() || this.root }],
        initializationOptions: this.server.initializationOptions?.() ?? {},
        capabilities: {
          window: { workDoneProgress: false },
          workspace: { configuration: true, workspaceFolders: true, symbol: { dynamicRegistration: false } },
          textDocument: {
            synchronization: { didOpen: true, didChange: true, dynamicRegistration: false },
            publishDiagnostics: { relatedInformation: true, versionSupport: true },
          },
        },
      })
      .then(async () => {
        connection.notify("initialized", {})
        // Files open before a restart are opened again in the new process.
        for (const [uri, file] of this.open) this.sendOpen(uri, file)
        this.status = "connected"
        await this.announce()
      })
      .catch((error: Error) => this.fail(error))
  }

  private async fail(error: Error): Promise<never> {
    this.status = "error"
    this.failedAt = Date.now()
    this.log?.warn(`lsp ${this.server.id} failed in ${this.root}: ${error.message}`)
    this.killProcess()
    await this.announce()
    throw error
  }

  private restartAfterCrash() {
    const now = Date.now()
    this.restarts = this.restarts.filter((at) => now - at < RESTART_WINDOW_MS)
    if (this.restarts.length >= MAX_RESTARTS) {
      this.status = "error"
      this.failedAt = now
      void this.announce()
      return
    }
    this.restarts.push(now)
    this.ready = this.spawn()
    this.ready.catch(() => {})
  }

  private async announce() {
    for (const directory of this.directories) await this.publish(directory, "lsp.updated", {}).catch(() => {})
  }

  private request(method: string, params: any): unknown {
    switch (method) {
      case "workspace/configuration":
        return (params?.items ?? []).map(() => null)
      case "workspace/workspaceFolders": {
        const uri = pathToFileURL(this.root).href
        return [{ uri, name: this.root }]
      }
      default:
        // client/registerCapability, window/workDoneProgress/create, window/showMessageRequest, …
        return null
    }
  }

  private notification(method: string, params: any) {
    if (method !== "textDocument/publishDiagnostics" || typeof params?.uri !== "string") return
    const open = this.open.get(params.uri)
    let path = open?.path
    if (!path) {
      try {
        path = fileURLToPath(params.uri)
      } catch {
        return
      }
    }
    this.diagnostics.set(path, Array.isArray(params.diagnostics) ? params.diagnostics : [])
    // Diagnostics of an older text (servers that say which version) do not answer the latest one.
    const stale = open !== undefined && typeof params.version === "number" && params.version < open.version
    if (!stale) {
      this.unanswered.delete(path)
      const waiters = this.awaiting.get(path)
      this.awaiting.delete(path)
      for (const wake of waiters ?? []) wake()
    }
    for (const directory of this.directories) {
      void this.publish(directory, "lsp.client.diagnostics", { serverID: this.server.id, path }).catch(() => {})
    }
  }

  private sendOpen(uri: string, file: OpenFile) {
    this.unanswered.add(file.path)
    const languageId = LANGUAGE_IDS[extname(file.path)] ?? "plaintext"
    this.connection?.notify("textDocument/didOpen", { textDocument: { uri, languageId, version: file.version, text: file.text } })
  }

  /**
   * Resolves once the server has answered the latest text of `path` with diagnostics (at once when it has), or
   * after `ms`. Whoever sent that text (a tool, the file watcher) does not matter.
   */
  answered(path: string, ms: number): Promise<void> {
    if (!this.unanswered.has(path)) return Promise.resolve()
    return new Promise((resolve) => {
      const waiters = this.awaiting.get(path) ?? new Set()
      const wake = () => {
        clearTimeout(timer)
        waiters.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      waiters.add(wake)
      this.awaiting.set(path, waiters)
    })
  }

  /** Opens a file (real path `real`, known to the client as `path`), or sends its new text if it changed. */
  async touch(real: string, path: string): Promise<void> {
    await this.start()
    const text = await readFile(real, "utf8")
    const uri = pathToFileURL(real).href
    const known = this.open.get(uri)
    if (!known) {
      const file = { path, version: 1, text }
      this.open.set(uri, file)
      this.sendOpen(uri, file)
      return
    }
    if (known.text === text) return
    known.version++
    known.text = text
    this.unanswered.add(known.path)
    this.connection?.notify("textDocument/didChange", {
      textDocument: { uri, version: known.version },
      contentChanges: [{ text }],
    })
  }

  async symbols(query: string): Promise<LspSymbol[]> {
    if (this.status !== "connected" || !this.connection) return []
    const result = await this.connection.request<any[] | null>("workspace/symbol", { query }).catch(() => null)
    if (!Array.isArray(result)) return []
    return result
      .filter((item) => item && typeof item.name === "string" && item.location?.range && SYMBOL_KINDS.has(item.kind))
      .map((item) => ({ name: item.name, kind: item.kind, location: { uri: item.location.uri, range: item.location.range } }))
  }

  private killProcess() {
    const child = this.child
    this.child = undefined
    this.connection?.dispose()
    if (!child?.pid) return
    try {
      process.kill(-child.pid, "SIGKILL") // its group: tsserver and other helpers too
    } catch {
      try {
        child.kill("SIGKILL")
      } catch {
        // already gone
      }
    }
  }

  /** shutdown + exit, a short wait, then SIGKILL to the process group. */
  async close() {
    this.closing = true
    const child = this.child
    const connection = this.connection
    if (!child || !connection) return
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve()
      else child.once("exit", () => resolve())
    })
    const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())
    if (this.status === "connected") {
      await Promise.race([connection.request("shutdown", null, SHUTDOWN_TIMEOUT_MS).catch(() => {}), wait(SHUTDOWN_TIMEOUT_MS)])
      connection.notify("exit", null)
      await Promise.race([exited, wait(SHUTDOWN_TIMEOUT_MS)])
    }
    // The server is gone or did not listen; either way its helpers go with its group.
    this.child = child
    this.killProcess()
    await Promise.race([exited, wait(SHUTDOWN_TIMEOUT_MS)])
  }
}

function isInside(base: string, target: string) {
  return target === base || target.startsWith(base.endsWith(sep) ? base : base + sep)
}

/** The nearest directory from the file's up to `top` holding one of the markers; `top` when none does. */
function findRoot(file: string, top: string, markers: string[]): string {
  let dir = dirname(file)
  while (isInside(top, dir)) {
    if (markers.some((marker) => existsSync(join(dir, marker)))) return dir
    if (dir === top) break
    dir = dirname(dir)
  }
  return top
}

/** One diagnostic as the language server published it. */
export interface LspDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } }
  severity?: number
  message: string
  source?: string
  code?: string | number
}

/** The local language servers: the port's queries, plus what the local machine itself drives. */
export interface LspManager extends LspService {
  /** Opens (or refreshes) a file in the server for its language, starting that server if needed. */
  touch(directory: string, path: string): Promise<void>
  /**
   * Opens or refreshes a file in its server like `touch`, then waits for the diagnostics that answer it, all
   * within `waitMs`; resolves with the file's diagnostics (none for a file no server handles, or none in time).
   */
  diagnose(directory: string, path: string, waitMs: number): Promise<LspDiagnostic[]>
  /** Whether a file's extension has a language server in the table (installed or not). */
  handles(path: string): boolean
  /** Sends a file's new text to every server that has it open (the file changed on disk, `file` absolute). */
  refresh(file: string): Promise<void>
  closeAll(): Promise<void>
}

export function createLspService(options: { publish: MachinePublish; log?: Logger }): LspManager {
  const clients = new Map<string, LspClient>()
  let closed = false

  const serverFor = (path: string) => SERVERS.find((server) => server.extensions.includes(extname(path).toLowerCase()))

  /** Clients whose root is the directory or inside it, or which hold it (the directory is inside their root). */
  const clientsOf = (realDirectory: string) =>
    [...clients.values()].filter((client) => isInside(realDirectory, client.root) || isInside(client.root, realDirectory))

  const realOf = async (directory: string) => {
    try {
      return (await resolveInside(directory, "")).real
    } catch {
      return directory
    }
  }

  /** The client for a file's language and root (made, not yet started, when new), with the file's paths. */
  const clientFor = async (directory: string, path: string) => {
    const server = serverFor(path)
    if (closed || !server) return undefined
    const resolved = await resolveInside(directory, path)
    const root = findRoot(resolved.real, resolved.realDirectory, server.markers)
    const key = `${server.id}\0${root}`
    let client = clients.get(key)
    if (!client) {
      client = new LspClient(server, root, options.publish, options.log)
      clients.set(key, client)
    }
    client.directories.add(directory)
    return { client, real: resolved.real, absolute: resolved.absolute }
  }

  return {
    handles: (path) => serverFor(path) !== undefined,

    async status(directory) {
      const real = await realOf(directory)
      return clientsOf(real)
        .filter((client) => client.status !== "starting")
        .map(
          (client): LspStatus => ({
            id: client.server.id,
            name: client.server.id,
            root: relative(real, client.root).split(sep).join("/"),
            status: client.status === "connected" ? "connected" : "error",
          }),
        )
    },

    async symbols(directory, query) {
      const real = await realOf(directory)
      const all = await Promise.all(clientsOf(real).map((client) => client.symbols(query)))
      return all.flat().slice(0, MAX_SYMBOLS)
    },

    async touch(directory, path) {
      const found = await clientFor(directory, path)
      await found?.client.touch(found.real, found.absolute)
    },

    async diagnose(directory, path, waitMs) {
      const found = await clientFor(directory, path)
      if (!found) return []
      // One deadline for all of it: a server still starting (its initialize may take long) counts against it.
      const deadline = Date.now() + waitMs
      let timer: ReturnType<typeof setTimeout> | undefined
      const touched = found.client.touch(found.real, found.absolute).then(() => true)
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)))
      const inTime = await Promise.race([touched, late]).finally(() => clearTimeout(timer))
      if (!inTime) {
        touched.catch(() => {})
        return []
      }
      // The path the file was first opened under (another directory may name it differently) keys its diagnostics.
      const known = found.client.open.get(pathToFileURL(found.real).href)?.path ?? found.absolute
      await found.client.answered(known, Math.max(0, deadline - Date.now()))
      return found.client.diagnostics.get(known) ?? []
    },

    async refresh(file) {
      if (closed) return
      const real = await realpath(file).catch(() => undefined)
      if (!real) return
      const uri = pathToFileURL(real).href
      for (const client of clients.values()) {
        const known = client.open.get(uri)
        if (known) await client.touch(real, known.path)
      }
    },


    async closeAll() {
      closed = true
      const all = [...clients.values()]
      clients.clear()
      await Promise.all(all.map((client) => client.close()))
    },
  }
}
