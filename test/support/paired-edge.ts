/**
 * A machine paired with an edge, as a user sets one up: a paired-only edge (`wrangler dev` without an open
 * tenant, so every API request needs a client token), the machine's local server, `agent pair` to register
 * it, and `agent connect --local` for its tunnel. Tests of the edge with a machine behind it start here.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { expect } from "vitest"
import { api, until } from "./http.ts"
import { AGENT_CLI, REPO_ROOT, startTarget, type Target, type TargetOptions } from "./targets.ts"

const run = promisify(execFile)
const [NODE, AGENT] = AGENT_CLI
/** An agent process may take this long to start on a busy 2-core machine (other suites run beside it). */
const PROCESS_START_MS = 90_000

/** What `agent pair` printed: the code and the link a browser opens to pair. */
export interface PairingLink {
  code: string
  link: string
  stdout: string
}

/** `agent pair --edge`: registers the machine (its secret kept in `state`) once, and prints a new code each time. */
export async function agentPair(edge: Target, state: string): Promise<PairingLink> {
  const { stdout } = await run(NODE, [AGENT, "pair", "--edge", edge.url, "--state", state], { cwd: REPO_ROOT, timeout: 60_000 })
  const code = stdout.match(/Pairing code: (\S+)/)?.[1]
  const link = stdout.match(/Pair a browser: (\S+)/)?.[1]
  expect(code, stdout).toBeDefined()
  expect(link, stdout).toBeDefined()
  return { code: code!, link: link!, stdout }
}

/** A client paired through `POST /edge/pair` with a code `agent pair` printed. */
export interface ClientPairing {
  token: string
  tokenID: string
  tenant: string
  machineID: string
  /** Where the web app opens: the machine's default directory's new session, once its tunnel has said which. */
  app: string
}

export async function pairClient(edge: Target, code: string): Promise<ClientPairing> {
  const paired = await api(edge, "POST", "/edge/pair", { noAuth: true, body: { code } })
  expect(paired.status, paired.text).toBe(200)
  return paired.json as ClientPairing
}

/** Registers a machine (state in `state`) through the agent CLI and pairs a client; returns the client token. */
export async function pairMachine(edge: Target, state: string): Promise<string> {
  return (await pairClient(edge, (await agentPair(edge, state)).code)).token
}

/** A tenant with one client token: a machine registered over HTTP (not connected; sessions need none) and a pairing. */
export async function registeredTenant(edge: Target) {
  const machine = await api(edge, "POST", "/edge/machine/register", { noAuth: true })
  expect(machine.status, machine.text).toBe(200)
  const paired = await api(edge, "POST", "/edge/pair", { noAuth: true, body: { code: machine.json.pairingCode } })
  expect(paired.status, paired.text).toBe(200)
  const token = paired.json.token as string
  const headers = { Authorization: `Bearer ${token}` }
  return {
    token,
    headers,
    as: (method: string, path: string, body?: unknown) => api(edge, method, path, { noAuth: true, headers, ...(body !== undefined ? { body } : {}) }),
  }
}

/** `agent connect --local`: only the tunnel, in its own process group, so killing it leaves the machine's server up. */
export class TunnelProcess {
  private child: ChildProcess | undefined
  /** What this run of the process printed (since the last `start`). */
  output = ""
  /** Everything every run printed. */
  allOutput = ""

  constructor(
    private readonly state: string,
    private readonly local: string,
    private readonly env: Record<string, string> = {},
    private readonly logLevel: "debug" | "info" | "warn" = "warn",
  ) {}

  async start(): Promise<void> {
    this.output = ""
    const child = spawn(NODE, [AGENT, "connect", "--local", this.local, "--state", this.state, "--log-level", this.logLevel], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...this.env },
    })
    this.child = child
    const record = (chunk: Buffer) => {
      this.output += chunk
      this.allOutput += chunk
    }
    child.stdout!.on("data", record)
    child.stderr!.on("data", record)
    await until(() => (this.output.includes("tunnel connected") ? true : undefined), { what: `the tunnel (${this.output})`, timeoutMs: PROCESS_START_MS })
  }

  /** SIGSTOP: the process keeps its socket open but answers nothing, as a half-open connection does. */
  freeze(): void {
    this.signal("SIGSTOP")
  }

  thaw(): void {
    this.signal("SIGCONT")
  }

  kill9(): void {
    this.signal("SIGKILL")
    this.child = undefined
  }

  /** To the whole process group; a process that already ended (a replaced agent exits by itself) is fine. */
  private signal(name: NodeJS.Signals): void {
    try {
      if (this.child?.pid) process.kill(-this.child.pid, name)
    } catch {
      // already gone
    }
  }
}

export interface PairedEdgeOptions {
  /** Options of the edge (`pairedOnly` is always set), e.g. `vars: { OPENCODE_APP_URL: … }`. */
  edge?: TargetOptions
  /** Options of the machine's local server, e.g. `directory` (the directory the machine serves by default). */
  machine?: TargetOptions
  /** Environment of the tunnel process (e.g. OPENCODE_TUNNEL_PING_MS). */
  tunnelEnv?: Record<string, string>
  /** The tunnel's log level (default warn). */
  tunnelLogLevel?: "debug" | "info" | "warn"
}

export interface PairedEdge {
  /** The paired-only edge. */
  edge: Target
  /** The machine's own local server, which the tunnel forwards to. */
  machine: Target
  tunnel: TunnelProcess
  /** Where the machine keeps its registration (`machine.json`). */
  state: string
  /** A client paired through `POST /edge/pair`: its token works as `Authorization: Bearer`. */
  client: ClientPairing
  /** Headers that authenticate as that client. */
  clientHeaders: Record<string, string>
  /** A new pairing code and link from `agent pair` (for a browser to pair with). */
  newPairingLink(): Promise<PairingLink>
  /** Stops the tunnel, the machine and the edge, and removes the machine's state. */
  stop(): Promise<void>
}

/**
 * Starts a paired-only edge and a machine, registers the machine with `agent pair`, pairs one client, and
 * connects the machine's tunnel (resolved once the agent says it is connected). Stop it with `stop()`.
 */
export async function startPairedEdge(options: PairedEdgeOptions = {}): Promise<PairedEdge> {
  const state = mkdtempSync(join(tmpdir(), "oc-paired-agent-"))
  const started: Target[] = []
  let tunnel: TunnelProcess | undefined
  const stop = async () => {
    tunnel?.kill9()
    for (const target of started.reverse()) await target.stop()
    rmSync(state, { recursive: true, force: true })
  }
  try {
    const [edge, machine] = await Promise.all([
      startTarget("worker", { ...options.edge, pairedOnly: true }).then((target) => (started.push(target), target)),
      startTarget("local", options.machine).then((target) => (started.push(target), target)),
    ])
    const client = await pairClient(edge, (await agentPair(edge, state)).code)
    tunnel = new TunnelProcess(state, machine.url, options.tunnelEnv, options.tunnelLogLevel)
    await tunnel.start()
    return {
      edge,
      machine,
      tunnel,
      state,
      client,
      clientHeaders: { Authorization: `Bearer ${client.token}` },
      newPairingLink: () => agentPair(edge, state),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
