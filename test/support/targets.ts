/**
 * Runtimes under test, each started as a real child process on 127.0.0.1 with a fresh state directory.
 *
 * - `local`: the Node local agent (`node dist/agent.mjs serve`, the bundle `npm start` runs, built once per test run by
 *   test/support/global-setup.ts), configured through its environment and flags.
 *   Its HOME (and XDG_CONFIG_HOME, HOME/.config) is a fresh folder, so it never reads the developer's own config.
 * - `worker`: the Worker under `wrangler dev`, configured through `--var NAME:VALUE`.
 *
 * Every target runs in its own process group (`detached: true`), so stopping it kills `-pid` and takes
 * wrangler's esbuild and workerd children along.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { AGENT_BUNDLE } from "../../local-agent/build.ts"

export type TargetKind = "local" | "worker"

export interface TargetOptions {
  /** OPENCODE_SERVER_PASSWORD: turns Basic auth on. */
  password?: string
  /** OPENCODE_SERVER_USERNAME (default "opencode" on the server). */
  username?: string
  /** OPENCODE_MAX_BODY_BYTES */
  maxBodyBytes?: number
  /** OPENCODE_HEARTBEAT_MS */
  heartbeatMs?: number
  /** OPENCODE_REPLAY_WINDOW: events each stream keeps for Last-Event-ID resume. */
  replayWindow?: number
  /** OPENCODE_SSE_BUFFER_BYTES: bytes queued for a slow subscriber before it is closed. */
  sseBufferBytes?: number
  /** Extra allowed CORS origins (`--cors` locally, OPENCODE_CORS on the worker). */
  cors?: string[]
  /** Worker only: more `--var NAME:VALUE` settings (tunnel limits and the like). */
  vars?: Record<string, string>
  /** Worker only: no OPENCODE_OPEN_TENANT, so every API request needs a client token from pairing. */
  pairedOnly?: boolean
  /** The default directory (`--directory` locally, OPENCODE_DEFAULT_DIRECTORY on the worker); a fresh one if unset. */
  directory?: string
  /** Local only: more `serve` flags, after the ones above (e.g. `["--mdns"]`). */
  extraArgs?: string[]
  /** Local only: more environment variables for the agent (e.g. OPENCODE_CONFIG_CONTENT), over the isolated HOME. */
  env?: Record<string, string>
  /** The process's log level (`--log-level`; default warn). At info, wrangler prints a line per request. */
  logLevel?: "debug" | "info" | "warn"
  /** `output()` answers everything the process printed, not only the recent part (to search all of it). */
  keepAllOutput?: boolean
}

export interface Target {
  readonly name: TargetKind
  /** Base URL without a trailing slash; read it again after `restart()`. */
  readonly url: string
  /** The directory requests that name none are served in. */
  readonly directory: string
  readonly stateDir: string
  /** Local only: the agent's HOME, a fresh folder (its global config folder is `<home>/.config/opencode`). */
  readonly home?: string
  readonly options: TargetOptions
  /** Headers that pass auth on this target (empty when auth is off). */
  readonly authHeaders: Record<string, string>
  /** Stops the process and starts it again on the same state directory. */
  restart(): Promise<void>
  /** Stops the process group and removes the state directory. */
  stop(): Promise<void>
  /** SIGKILLs the process group and returns at once (start it again with `restart()`). */
  kill9?(): Promise<void>
  /** Recent stdout/stderr of the process, for diagnostics (all of it with `keepAllOutput`). */
  output(): string
}

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)))
const BIN = join(REPO_ROOT, "node_modules", ".bin")
/** The local agent's command line (`agent <command> [options]`): its bundle, run by this Node. */
export const AGENT_CLI = [process.execPath, AGENT_BUNDLE] as const
const START_TIMEOUT_MS = Number(process.env.TEST_TARGET_START_TIMEOUT_MS ?? 60_000)
const STALLED_START = "did not start within"

/**
 * The runtimes the conformance suite runs against: `TEST_TARGETS=local,worker` picks them explicitly;
 * otherwise the local agent always, and the worker once `worker/index.ts` and `wrangler.toml` exist.
 */
export function targetKinds(): TargetKind[] {
  const explicit = process.env.TEST_TARGETS
  if (explicit) {
    const kinds = explicit.split(",").map((kind) => kind.trim()).filter(Boolean)
    for (const kind of kinds) if (kind !== "local" && kind !== "worker") throw new Error(`TEST_TARGETS: unknown target ${kind}`)
    return kinds as TargetKind[]
  }
  const kinds: TargetKind[] = ["local"]
  if (existsSync(join(REPO_ROOT, "worker", "index.ts")) && existsSync(join(REPO_ROOT, "wrangler.toml"))) kinds.push("worker")
  return kinds
}

/**
 * Ports handed out by `freePort`: below Linux's ephemeral range (32768–60999), which is where every `--port 0`
 * server and every outgoing connection gets its port. A port taken from that range is soon given to one of
 * those, and a `wrangler dev` told to listen there then finds it taken, or worse, its health check is answered
 * by the server that took it.
 */
const FIXED_PORTS = { from: 20_000, to: 32_768 }

/** A port below the ephemeral range that was free a moment ago (a random one that a listen on it took, then closed). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = FIXED_PORTS.from + Math.floor(Math.random() * (FIXED_PORTS.to - FIXED_PORTS.from))
    const free = await new Promise<boolean>((resolveFree) => {
      const server = createServer()
      server.unref()
      server.once("error", () => resolveFree(false))
      server.listen(port, "127.0.0.1", () => server.close(() => resolveFree(true)))
    })
    if (free) return port
    if (attempt === 50) throw new Error("no free port below the ephemeral range after 50 tries")
  }
}

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`
}

/** A fresh absolute directory name (it need not exist: both runtimes treat it as a plain path). */
export function uniqueDirectory(label = "dir"): string {
  return `/tmp/oc-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}/${label}`
}

/** Process groups still running, killed if the test process exits without stopping them. */
const live = new Set<number>()
process.once("exit", () => {
  for (const pid of live) {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
})

/** Settings a target must not inherit: our own, and model providers' keys (a developer's key would connect a provider). */
const PRIVATE_SETTING = /^OPENCODE_|_API_KEY$|_TOKEN$|_ACCESS_KEY$/

/** The test runner's environment without OPENCODE_* settings or provider keys (only a target's own options reach it), plus `env`. */
function childEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!PRIVATE_SETTING.test(name)) out[name] = value
  return { ...out, ...env }
}

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group is gone already
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolveExit) => child.once("exit", () => resolveExit()))
}

function sleep(ms: number) {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms).unref())
}

interface Launch {
  command: string
  args: string[]
  env: Record<string, string>
  /** Resolves to the base URL once the process says where it listens (or at once when known up front). */
  url(stdout: () => string, waiting: () => boolean): Promise<string> | string
}

class ProcessTarget implements Target {
  private child: ChildProcess | undefined
  private log = ""
  private all = ""
  private port: number | undefined
  url = ""

  constructor(
    readonly name: TargetKind,
    readonly directory: string,
    readonly stateDir: string,
    readonly options: TargetOptions,
    private readonly launch: (port: number | undefined) => Promise<Launch>,
    readonly home?: string,
  ) {}

  get authHeaders(): Record<string, string> {
    const { password, username } = this.options
    return password ? { Authorization: basicAuthHeader(username ?? "opencode", password) } : {}
  }

  output(): string {
    return this.options.keepAllOutput ? this.all : this.log
  }

  /**
   * Starts the process. A port another process took between `freePort` and the bind (wrangler's own or its
   * inspector's) is given up for a new one, a few times; a start that stayed silent past the timeout (once, a
   * loaded `wrangler dev` printed nothing and never answered for 90 s) is tried once more on a new port.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce()
      } catch (error) {
        const portTaken = /Address already in use|EADDRINUSE/.test(String(error))
        const silent = attempt === 1 && String(error).includes(STALLED_START)
        if (attempt === 3 || !(portTaken || silent)) throw error
        this.port = undefined
      }
    }
  }

  private async startOnce(): Promise<void> {
    const launch = await this.launch(this.port)
    const child = spawn(launch.command, launch.args, {
      cwd: REPO_ROOT,
      env: childEnvironment(launch.env),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    })
    this.child = child
    if (child.pid !== undefined) live.add(child.pid)
    let stdout = ""
    const record = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-20_000)
      if (this.options.keepAllOutput) this.all += chunk.toString()
    }
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-20_000)
      record(chunk)
    })
    child.stderr!.on("data", record)
    const failed = new Promise<never>((_, reject) => {
      child.once("error", (error) => reject(new Error(`${this.name}: cannot start ${launch.command}: ${error.message}`)))
      child.once("exit", (code, signal) =>
        reject(new Error(`${this.name} exited during start (code ${code}, signal ${signal}):\n${this.log}`)),
      )
    })
    failed.catch(() => {})
    const deadline = Date.now() + START_TIMEOUT_MS
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} ${STALLED_START} ${START_TIMEOUT_MS} ms:\n${this.log}`)),
        START_TIMEOUT_MS,
      )
    })
    timeout.catch(() => {})
    try {
      const waiting = () => this.child === child && child.exitCode === null && Date.now() < deadline
      this.url = await Promise.race([Promise.resolve(launch.url(() => stdout, waiting)), failed, timeout])
      this.port = Number(new URL(this.url).port)
      await Promise.race([this.waitHealthy(deadline), failed, timeout])
    } catch (error) {
      await this.halt()
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  private async waitHealthy(deadline: number): Promise<void> {
    let last = "no answer"
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${this.url}/global/health`, {
          headers: this.authHeaders,
          signal: AbortSignal.timeout(5_000),
        })
        const body = await response.text()
        if (response.status === 200) return
        last = `${response.status} ${body.slice(0, 200)}`
      } catch (error) {
        last = String(error)
      }
      await sleep(100)
    }
    throw new Error(`${this.name} never answered GET /global/health with 200 (last: ${last}):\n${this.log}`)
  }

  /** Stops the process group: SIGTERM, then SIGKILL if it lingers. */
  async halt(): Promise<void> {
    const child = this.child
    if (!child || child.pid === undefined) return
    this.child = undefined
    const pid = child.pid
    killGroup(pid, "SIGTERM")
    const done = await Promise.race([exited(child).then(() => true), sleep(10_000).then(() => false)])
    if (!done) await Promise.race([((killGroup(pid, "SIGKILL"), exited(child))), sleep(5_000)])
    // Children (workerd, esbuild) may outlive the leader; the group must be gone before the port is reused.
    killGroup(pid, "SIGKILL")
    live.delete(pid)
  }

  async kill9(): Promise<void> {
    const child = this.child
    if (!child || child.pid === undefined) return
    this.child = undefined
    killGroup(child.pid, "SIGKILL")
    await Promise.race([exited(child), sleep(5_000)])
    live.delete(child.pid)
  }

  async restart(): Promise<void> {
    await this.halt()
    await this.start()
  }

  async stop(): Promise<void> {
    await this.halt()
    for (const folder of [this.stateDir, this.home]) if (folder) await rm(folder, { recursive: true, force: true }).catch(() => {})
  }
}

const LISTENING = /opencode server listening on (http:\/\/\S+)/

function localLaunch(stateDir: string, directory: string, home: string, options: TargetOptions) {
  const env: Record<string, string> = { HOME: home, XDG_CONFIG_HOME: join(home, ".config") }
  const set = (name: string, value: string | number | undefined) => {
    if (value !== undefined) env[name] = String(value)
  }
  set("OPENCODE_SERVER_PASSWORD", options.password)
  set("OPENCODE_SERVER_USERNAME", options.username)
  set("OPENCODE_MAX_BODY_BYTES", options.maxBodyBytes)
  set("OPENCODE_HEARTBEAT_MS", options.heartbeatMs)
  set("OPENCODE_REPLAY_WINDOW", options.replayWindow)
  set("OPENCODE_SSE_BUFFER_BYTES", options.sseBufferBytes)
  Object.assign(env, options.env)
  // A restart listens on a new random port too (read `url` again): reusing the old one could race another process.
  return async (): Promise<Launch> => {
    const args = [AGENT_BUNDLE, "serve", "--port", "0", "--state", stateDir, "--log-level", options.logLevel ?? "warn"]
    args.push("--directory", directory)
    for (const origin of options.cors ?? []) args.push("--cors", origin)
    args.push(...(options.extraArgs ?? []))
    return {
      command: AGENT_CLI[0],
      args,
      env,
      async url(stdout, waiting) {
        while (waiting()) {
          const match = stdout().match(LISTENING)
          if (match) return match[1]!.replace(/\/$/, "")
          await sleep(25)
        }
        throw new Error("the local agent never printed its listening line")
      },
    }
  }
}

function workerLaunch(stateDir: string, directory: string, options: TargetOptions) {
  const vars: [string, string | number | undefined][] = [
    ["OPENCODE_SERVER_PASSWORD", options.password],
    ["OPENCODE_SERVER_USERNAME", options.username],
    ["OPENCODE_MAX_BODY_BYTES", options.maxBodyBytes],
    ["OPENCODE_HEARTBEAT_MS", options.heartbeatMs],
    ["OPENCODE_REPLAY_WINDOW", options.replayWindow],
    ["OPENCODE_SSE_BUFFER_BYTES", options.sseBufferBytes],
    ["OPENCODE_CORS", options.cors?.length ? options.cors.join(",") : undefined],
    ["OPENCODE_DEFAULT_DIRECTORY", directory],
    // Requests without a client token act in this tenant, unless the test wants a paired-only edge.
    ["OPENCODE_OPEN_TENANT", options.pairedOnly ? undefined : "local"],
    // The secret credentials are sealed with at rest (a test value; a real edge uses `wrangler secret put`).
    ["OPENCODE_SECRETS_KEY", "test-secrets-key-not-for-production"],
    ...Object.entries(options.vars ?? {}),
  ]
  return async (previousPort: number | undefined): Promise<Launch> => {
    const port = previousPort ?? (await freePort())
    const command = wranglerDev(port, await freePort(), stateDir, options.logLevel)
    for (const [name, value] of vars) if (value !== undefined) command.args.push("--var", `${name}:${value}`)
    return { ...command, url: () => `http://127.0.0.1:${port}` }
  }
}

/** `wrangler dev` on 127.0.0.1, offline and non-interactive, its Durable Object state under `persistTo`. */
export function wranglerDev(port: number, inspectorPort: number, persistTo: string, logLevel: "debug" | "info" | "warn" = "warn") {
  return {
    command: join(BIN, "wrangler"),
    args: [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      "--show-interactive-dev-session=false",
      "--log-level",
      logLevel,
    ],
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
  }
}

/** Starts a runtime and resolves once it answers `GET /global/health` with 200. */
export async function startTarget(kind: TargetKind, options: TargetOptions = {}): Promise<Target> {
  const stateDir = await mkdtemp(join(tmpdir(), `oc-${kind}-state-`))
  const directory = options.directory ?? uniqueDirectory("default")
  const home = kind === "local" ? await mkdtemp(join(tmpdir(), "oc-local-home-")) : undefined
  const launch = home ? localLaunch(stateDir, directory, home, options) : workerLaunch(stateDir, directory, options)
  const target = new ProcessTarget(kind, directory, stateDir, options, launch, home)
  try {
    await target.start()
  } catch (error) {
    for (const folder of [stateDir, home]) if (folder) await rm(folder, { recursive: true, force: true }).catch(() => {})
    throw error
  }
  return target
}
