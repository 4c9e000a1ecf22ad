/**
 * What bench/turn.ts and bench/compare-upstream.ts share: the scripted model (answers chosen from the request's
 * content, so title requests never take a step's reply), the servers (our local agent, our Worker under
 * `wrangler dev` with and without a paired machine, upstream `opencode serve`), a timestamping `/event` reader,
 * and one agent turn driven over HTTP.
 */
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import http from "node:http"
import { join } from "node:path"
import { startModelServer, type ModelServer, type ScriptedReply, fakeProviderConfig } from "../test/support/model-server.ts"
import { freePort, wranglerDev } from "../test/support/targets.ts"
import { agentBundle, type Child, children, pairAgent, ROOT, startChild, stopChild, tempDir, waitFor } from "./support.ts"

export const UPSTREAM_BIN = join(ROOT, "node_modules", ".bin", "opencode")

// ---------------------------------------------------------------------------------------------------------
// The scripted model
// ---------------------------------------------------------------------------------------------------------

/** The two prompts; the model tells them apart by TOOL_MARK in the newest user message. */
export const TOOL_MARK = "BENCH-TOOL"
export const PROMPTS = {
  plain: "Say hello.",
  tool: `${TOOL_MARK}: run \`echo hi\` with bash, then tell me what it printed.`,
} as const
export type Case = keyof typeof PROMPTS

export const PLAIN_TEXT = ["Hel", "lo ", "the", "re."]
export const TOOL_ANSWER = ["It ", "printed ", "hi."]
export const TOOL_CALL = { name: "bash", input: { command: "echo hi", description: "Print hi" } }
export const BENCH_TITLE = "Bench title"

export interface Pacing {
  firstChunkDelayMs: number
  chunkDelayMs: number
}

export interface StepRequest {
  /** performance.now() when the request (its whole body) reached the model. */
  at: number
  /** What it was answered with. */
  reply: "plain" | "tool-call" | "after-tool"
  /** The request's parsed body. */
  body: any
}

export interface BenchModel {
  server: ModelServer
  baseURL: string
  pacing: Pacing
  /** The chunks of the plain answer (PLAIN_TEXT unless startBenchModel was given others). */
  plainText: string[]
  steps: StepRequest[]
  /** Title requests (any request without tools). */
  titles: { at: number; body: any }[]
}

/**
 * The model server with one content-based handler instead of queues:
 * - a request without tools is a title request (upstream's title prompt and ours both send none): BENCH_TITLE,
 *   at once, so it never delays or consumes a step's reply whatever order the server sends them in;
 * - a step whose last message is a tool result: TOOL_ANSWER;
 * - a step whose newest user message holds TOOL_MARK: one bash call (`echo hi`);
 * - any other step: `plainText` (default PLAIN_TEXT; bench/share.ts streams a longer reply).
 * Step replies are paced by `pacing` (first event after firstChunkDelayMs, then one every chunkDelayMs).
 */
export async function startBenchModel(pacing: Pacing, plainText: string[] = PLAIN_TEXT): Promise<BenchModel> {
  const server = await startModelServer()
  const model: BenchModel = { server, baseURL: server.baseURL, pacing, plainText, steps: [], titles: [] }
  server.handle((request): ScriptedReply => {
    const at = performance.now()
    const body = request.body ?? {}
    if (!Array.isArray(body.tools) || body.tools.length === 0) {
      model.titles.push({ at, body })
      return { text: BENCH_TITLE }
    }
    const messages: any[] = Array.isArray(body.messages) ? body.messages : []
    if (messages.at(-1)?.role === "tool") {
      model.steps.push({ at, reply: "after-tool", body })
      return { text: TOOL_ANSWER, ...pacing }
    }
    const lastUser = [...messages].reverse().find((message) => message?.role === "user")
    if (JSON.stringify(lastUser?.content ?? "").includes(TOOL_MARK)) {
      model.steps.push({ at, reply: "tool-call", body })
      return { toolCalls: [TOOL_CALL], ...pacing }
    }
    model.steps.push({ at, reply: "plain", body })
    return { text: model.plainText, ...pacing }
  })
  return model
}

/** The provider config of agent-turn.md (what upstream runs offline with), pointed at the model. */
export function benchConfig(model: BenchModel) {
  return {
    ...fakeProviderConfig(model.baseURL),
    share: "disabled",
    autoupdate: false,
    permission: { bash: "allow", edit: "allow" },
  }
}

// ---------------------------------------------------------------------------------------------------------
// The model's own times, from a client calling it directly
// ---------------------------------------------------------------------------------------------------------

const BASH_TOOL = {
  type: "function",
  function: {
    name: "bash",
    description: "Run a shell command",
    parameters: { type: "object", properties: { command: { type: "string" }, description: { type: "string" } }, required: ["command"] },
  },
}

/** One streamed Chat Completions call: ms to the first non-empty `delta.content` (NaN if none) and to the end. */
async function streamOnce(model: BenchModel, messages: unknown[]): Promise<{ first: number; end: number; toolCalls: any[] }> {
  const start = performance.now()
  const response = await fetch(`${model.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k" },
    body: JSON.stringify({ model: "fake-1", stream: true, stream_options: { include_usage: true }, messages, tools: [BASH_TOOL] }),
    signal: AbortSignal.timeout(30_000),
  })
  if (!response.ok || !response.body) throw new Error(`model answered ${response.status}`)
  let first = NaN
  let buffer = ""
  const toolCalls: any[] = []
  const decoder = new TextDecoder()
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true })
    let end: number
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const data = frame.replace(/^data: /, "")
      if (data === "[DONE]") continue
      const delta = JSON.parse(data).choices?.[0]?.delta
      if (Number.isNaN(first) && typeof delta?.content === "string" && delta.content !== "") first = performance.now() - start
      for (const call of delta?.tool_calls ?? []) toolCalls.push(call)
    }
  }
  return { first, end: performance.now() - start, toolCalls }
}

export interface Timing {
  /** ms from the send to the first text token (a server: the first message.part.delta on /event). */
  first: number
  /** ms from the send to the end (the model: its stream's end; a server: the answer of POST /session/:id/message). */
  end: number
}

/** The model's own time for a case: plain = one call; tool = the tool-call call, then the answer's call. */
export async function modelDirect(model: BenchModel, kind: Case): Promise<Timing> {
  const system = { role: "system", content: "You are a bench." }
  if (kind === "plain") {
    const { first, end } = await streamOnce(model, [system, { role: "user", content: PROMPTS.plain }])
    return { first, end }
  }
  const start = performance.now()
  const user = { role: "user", content: PROMPTS.tool }
  const call = await streamOnce(model, [system, user])
  const id = call.toolCalls.find((c) => c.id)?.id ?? "call_x"
  const args = call.toolCalls.map((c) => c.function?.arguments ?? "").join("")
  const offset = performance.now() - start
  const answer = await streamOnce(model, [
    system,
    user,
    { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name: "bash", arguments: args } }] },
    { role: "tool", tool_call_id: id, content: "hi\n" },
  ])
  return { first: offset + answer.first, end: offset + answer.end }
}

// ---------------------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------------------

export interface Server {
  name: string
  base: string
  /** The project directory turns run in (exists on disk). */
  directory: string
  /** Headers every request needs (a client token on a paired edge). */
  headers: Record<string, string>
  /** Whether bash runs somewhere: false on an edge without a machine (the call ends in a tool error). */
  runsTools: boolean
  note?: string
  children: Child[]
}

export async function stopServer(server: Server | undefined) {
  if (!server) return
  for (const child of [...server.children].reverse()) await stopChild(child)
}

/** The environment without OPENCODE_* settings or provider credentials, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!/^OPENCODE_|_API_KEY$|_TOKEN$|_ACCESS_KEY$/.test(name)) env[name] = value
  return { ...env, ...extra }
}

/** A fresh HOME with its XDG folders inside, so no server reads the developer's config or data. */
export function isolatedHome(prefix: string): Record<string, string> {
  const home = tempDir(prefix)
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
  }
}

/** A project folder: a README, and (unless `git` is false) a git repository with one commit, as users' projects are. */
export function makeProject(prefix: string, git = true): string {
  const directory = tempDir(prefix)
  writeFileSync(join(directory, "README.md"), "# bench project\n")
  if (git) {
    const run = (...args: string[]) => execFileSync("git", args, { cwd: directory, stdio: "ignore" })
    run("init", "-q")
    run("add", "-A")
    run("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", "init")
  }
  return directory
}

async function httpOk(base: string, path: string, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const response = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(2_000) })
    await response.text()
    return response.ok
  } catch {
    return false
  }
}

/** Polls GET /global/health (2 s per try: upstream's first request after it listens may hang) until 200. */
export async function waitHealthy(child: Child, base: string, ms: number, headers: Record<string, string> = {}) {
  let healthy = false
  let pending = false
  await waitFor(
    child,
    `GET ${base}/global/health`,
    () => {
      if (!healthy && !pending) {
        pending = true
        void httpOk(base, "/global/health", headers).then((ok) => {
          healthy ||= ok
          pending = false
        })
      }
      return healthy
    },
    ms,
  )
}

export async function api(server: Pick<Server, "base" | "headers">, method: string, path: string, body?: unknown, ms = 60_000): Promise<{ status: number; json: any; text: string }> {
  const response = await fetch(`${server.base}${path}`, {
    method,
    headers: { ...server.headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ms),
  })
  const text = await response.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, json, text }
}

const LISTENING = /listening on (http:\/\/\S+)/

/**
 * Our local agent: its bundle (`node dist/agent.mjs serve`, as `npm start` runs it) with a fresh state dir and HOME, configured with PATCH /config.
 * `nodeArgs` go to node before the script (e.g. `--cpu-prof --cpu-prof-dir <dir>`, written when it exits on SIGTERM);
 * `env` adds to its environment (e.g. OPENCODE_APP_URL).
 */
export async function startLocal(model: BenchModel, git = true, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<Server> {
  const directory = makeProject("bench-turn-local-", git)
  const child = startChild(
    "local",
    process.execPath,
    [...nodeArgs, await agentBundle(), "serve", "--port", "0", "--state", tempDir("bench-turn-state-"), "--log-level", "warn", "--directory", directory],
    cleanEnv({ ...isolatedHome("bench-turn-home-"), ...env }),
  )
  const server: Server = { name: "local", base: "", directory, headers: {}, runsTools: true, children: [child] }
  try {
    await waitFor(child, "its listening line", () => LISTENING.test(child.stdout), 60_000)
    server.base = child.stdout.match(LISTENING)![1]!.replace(/\/$/, "")
    await waitHealthy(child, server.base, 60_000)
    await configure(server, model)
  } catch (error) {
    await stopServer(server)
    throw error
  }
  return server
}

async function configure(server: Server, model: BenchModel) {
  const patched = await api(server, "PATCH", `/config?directory=${encodeURIComponent(server.directory)}`, benchConfig(model))
  if (patched.status !== 200) throw new Error(`${server.name}: PATCH /config answered ${patched.status}: ${patched.text.slice(0, 300)}`)
}

/**
 * Our Worker under `wrangler dev` as test/support/targets.ts starts it (OPENCODE_OPEN_TENANT=local), and, unless
 * `withMachine` is false, a machine paired with it (`pair`, then `connect`) for a second tenant, so the same
 * wrangler serves two targets:
 * - `worker`: requests without a token (tenant `local`), no machine: the model is fetched by the Worker itself,
 *   and a bash call ends in a tool error (nothing to run it on);
 * - `worker+machine`: requests with the paired client token; the model (on loopback) is called from the machine
 *   through the tunnel, and bash runs on the machine, as a deployed edge with a paired machine does.
 */
export async function startWorker(model: BenchModel, options: { withMachine: boolean; git?: boolean }): Promise<{ worker: Server; machine?: Server; error?: string }> {
  const port = await freePort()
  const wrangler = wranglerDev(port, await freePort(), tempDir("bench-turn-wrangler-"))
  wrangler.args.push("--var", "OPENCODE_OPEN_TENANT:local")
  const child = startChild("wrangler", wrangler.command, wrangler.args, cleanEnv(wrangler.env))
  const base = `http://127.0.0.1:${port}`
  const worker: Server = {
    name: "worker",
    base,
    directory: makeProject("bench-turn-worker-", options.git ?? true),
    headers: {},
    runsTools: false,
    note: "no machine: bash ends in a tool error",
    children: [child],
  }
  try {
    await waitHealthy(child, base, 120_000)
    await configure(worker, model)
  } catch (error) {
    await stopServer(worker)
    throw error
  }
  if (!options.withMachine) return { worker }
  try {
    const state = tempDir("bench-turn-agent-")
    const env = cleanEnv(isolatedHome("bench-turn-agent-home-"))
    const token = await pairAgent(base, state, env)
    const agent = startChild("agent", process.execPath, [await agentBundle(), "connect", "--port", "0", "--state", state, "--log-level", "warn"], env)
    worker.children.push(agent) // stopped before wrangler (children stop in reverse)
    await waitFor(agent, "tunnel connected", () => agent.stdout.includes("tunnel connected"), 60_000)
    const machine: Server = {
      name: "worker+machine",
      base,
      directory: makeProject("bench-turn-machine-", options.git ?? true),
      headers: { Authorization: `Bearer ${token}` },
      runsTools: true,
      note: "paired machine: model calls and bash go through the tunnel",
      children: [],
    }
    await configure(machine, model)
    return { worker, machine }
  } catch (error) {
    return { worker, error: `worker+machine: ${(error as Error).message.split("\n")[0]}` }
  }
}

/**
 * Upstream `opencode serve` (opencode-ai 1.18.33), as ../shared/docs/agent-turn.md runs it offline: cwd the project,
 * a fresh HOME, OPENCODE_DISABLE_AUTOUPDATE=1 and the config in OPENCODE_CONFIG_CONTENT.
 */
export async function startUpstream(model: BenchModel, git = true): Promise<Server> {
  const directory = makeProject("bench-turn-upstream-", git)
  const port = await freePort()
  const child = startChild(
    "upstream",
    UPSTREAM_BIN,
    ["serve", "--port", String(port), "--hostname", "127.0.0.1"],
    cleanEnv({ ...isolatedHome("bench-turn-upstream-home-"), OPENCODE_DISABLE_AUTOUPDATE: "1", OPENCODE_CONFIG_CONTENT: JSON.stringify(benchConfig(model)) }),
    directory,
  )
  const server: Server = { name: "upstream", base: `http://127.0.0.1:${port}`, directory, headers: {}, runsTools: true, children: [child] }
  try {
    await waitFor(child, "its listening line", () => LISTENING.test(child.stdout), 60_000)
    await waitHealthy(child, server.base, 60_000)
  } catch (error) {
    await stopServer(server)
    throw error
  }
  return server
}

/** CPU seconds (user + system) used so far by the process groups of the running children. */
export function childrenCpuSeconds(): number {
  let total = 0
  for (const seconds of childrenCpuByCommand().values()) total += seconds
  return total
}

/** The same, by command name (e.g. workerd apart from wrangler's node). */
export function childrenCpuByCommand(): Map<string, number> {
  const groups = new Set([...children].map((child) => child.proc.pid))
  const byCommand = new Map<string, number>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      const command = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (!groups.has(Number(fields[2]))) continue // pgrp
      byCommand.set(command, (byCommand.get(command) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100) // utime + stime in ticks
    } catch {
      // gone
    }
  }
  return byCommand
}

/**
 * Waits until the children together use less than `cores` of CPU over a `windowMs` window (upstream keeps a core
 * busy for ~15-20 s after its first turns), at most `maxMs`. Resolves with the ms waited and the last usage.
 */
export async function waitQuiet(cores = 0.15, windowMs = 2_000, maxMs = 60_000): Promise<{ waitedMs: number; cores: number; quiet: boolean }> {
  const start = performance.now()
  let usage = NaN
  while (performance.now() - start < maxMs) {
    const before = childrenCpuSeconds()
    const t = performance.now()
    await new Promise((resolveWait) => setTimeout(resolveWait, windowMs))
    usage = (childrenCpuSeconds() - before) / ((performance.now() - t) / 1000)
    if (usage < cores) return { waitedMs: performance.now() - start, cores: usage, quiet: true }
  }
  return { waitedMs: performance.now() - start, cores: usage, quiet: false }
}

// ---------------------------------------------------------------------------------------------------------
// /event, with arrival times
// ---------------------------------------------------------------------------------------------------------

export interface Frame {
  /** performance.now() when the chunk holding the frame arrived. */
  at: number
  type: string
  properties: any
  raw: any
}

/** The session an event belongs to, when it names one. */
export function sessionOf(frame: Frame): string | undefined {
  const p = frame.properties ?? {}
  return p.sessionID ?? p.info?.sessionID ?? p.part?.sessionID ?? (frame.type.startsWith("session.") ? p.info?.id : undefined)
}

export class EventStream {
  readonly frames: Frame[] = []
  ended = false
  private waiters = new Set<() => void>()
  private constructor(private readonly request: http.ClientRequest) {}

  /** Opens `GET /event?directory=` and resolves once its first frame (server.connected) is in. */
  static open(server: Server, ms = 30_000): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const url = new URL(`/event?directory=${encodeURIComponent(server.directory)}`, server.base)
      const agent = new http.Agent({ keepAlive: false })
      let stream: EventStream
      const timer = setTimeout(() => {
        stream?.close()
        reject(new Error(`${server.name}: no server.connected on /event within ${ms} ms`))
      }, ms)
      const request = http.get(url, { agent, headers: { accept: "text/event-stream", ...server.headers } }, (response) => {
        if (response.statusCode !== 200) {
          clearTimeout(timer)
          reject(new Error(`${server.name}: GET /event answered ${response.statusCode}`))
          response.resume()
          return
        }
        let buffer = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => {
          const at = performance.now()
          buffer += chunk.replace(/\r\n?/g, "\n")
          let end: number
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = block
              .split("\n")
              .filter((line) => line.startsWith("data:"))
              .map((line) => line.slice(5).replace(/^ /, ""))
              .join("\n")
            if (!data) continue
            try {
              const raw = JSON.parse(data)
              const payload = raw.payload ?? raw
              stream.frames.push({ at, type: String(payload.type), properties: payload.properties, raw: payload })
            } catch {
              // not JSON: not an event
            }
          }
          if (stream.frames.length > 0) {
            clearTimeout(timer)
            resolve(stream)
          }
          for (const waiter of [...stream.waiters]) waiter()
        })
        response.on("close", () => {
          stream.ended = true
          for (const waiter of [...stream.waiters]) waiter()
        })
      })
      stream = new EventStream(request)
      request.on("error", (error) => {
        clearTimeout(timer)
        stream.ended = true
        reject(error)
      })
    })
  }

  /** The first frame at index >= `from` that matches, or undefined once `ms` pass (or the stream ends). */
  waitFor(predicate: (frame: Frame) => boolean, from: number, ms: number): Promise<Frame | undefined> {
    return new Promise((resolve) => {
      let index = from
      const check = () => {
        for (; index < this.frames.length; index++) {
          if (predicate(this.frames[index]!)) return finish(this.frames[index])
        }
        if (this.ended) finish(undefined)
      }
      const timer = setTimeout(() => finish(undefined), ms)
      const finish = (frame: Frame | undefined) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve(frame)
      }
      this.waiters.add(check)
      check()
    })
  }

  close() {
    this.request.destroy()
    this.ended = true
  }
}

// ---------------------------------------------------------------------------------------------------------
// One turn
// ---------------------------------------------------------------------------------------------------------

export interface TurnResult {
  sessionID: string
  /** ms from sending POST /session/:id/message to the first message.part.delta of the session (NaN: none). */
  first: number
  /** ms to the POST's answer. */
  end: number
  /** ms to session.idle on /event (NaN: not within the wait). */
  idle: number
  /** ms to the first message.updated of the user's message on /event (the prompt stored and published). */
  toUser: number
  /** ms to each step request's arrival at the model. */
  modelRequests: number[]
  /** The turn's step requests, in order. */
  steps: StepRequest[]
  /** The answer's assistant message. */
  answer: any
  /** What went wrong, if anything (the turn is still timed). */
  problem?: string
  /** Index in the stream's frames where this turn's events start (from the prompt on). */
  from: number
  /** Index where the session's creation starts (POST /session). */
  createdFrom: number
  /** The session as POST /session answered it. */
  created: any
}

/**
 * One turn in a new session: POST /session, then (timed from here) POST /session/:id/message with the case's
 * prompt, then waits for session.idle and, up to `titleWaitMs`, for the generated title, so a title write does
 * not spill into the next turn.
 */
export async function runTurn(server: Server, stream: EventStream, model: BenchModel, kind: Case, titleWaitMs = 3_000): Promise<TurnResult> {
  const query = `?directory=${encodeURIComponent(server.directory)}`
  const createdFrom = stream.frames.length
  const created = await api(server, "POST", `/session${query}`, {})
  if (created.status !== 200 || !created.json?.id) throw new Error(`${server.name}: POST /session answered ${created.status}: ${created.text.slice(0, 300)}`)
  const sessionID: string = created.json.id
  const from = stream.frames.length
  const stepsBefore = model.steps.length
  const t0 = performance.now()
  const reply = await api(server, "POST", `/session/${sessionID}/message${query}`, { parts: [{ type: "text", text: PROMPTS[kind] }] })
  const end = performance.now() - t0
  const idleFrame = await stream.waitFor((f) => f.type === "session.idle" && sessionOf(f) === sessionID, from, 30_000)
  const firstDelta = stream.frames.slice(from).find((f) => f.type === "message.part.delta" && sessionOf(f) === sessionID)
  const result: TurnResult = {
    sessionID,
    first: firstDelta ? firstDelta.at - t0 : NaN,
    end,
    idle: idleFrame ? idleFrame.at - t0 : NaN,
    toUser: (stream.frames.slice(from).find((f) => f.type === "message.updated" && sessionOf(f) === sessionID && f.properties?.info?.role === "user")?.at ?? NaN) - t0,
    modelRequests: model.steps.slice(stepsBefore).map((step) => step.at - t0),
    steps: model.steps.slice(stepsBefore),
    answer: reply.json?.info,
    from,
    createdFrom,
    created: created.json,
  }
  const problems: string[] = []
  if (reply.status !== 200) problems.push(`POST answered ${reply.status}: ${reply.text.slice(0, 200)}`)
  else if (reply.json?.info?.error) problems.push(`assistant error ${reply.json.info.error.name}: ${String(reply.json.info.error.data?.message).slice(0, 200)}`)
  else if (reply.json?.info?.finish !== "stop") problems.push(`finish ${reply.json?.info?.finish}`)
  if (!firstDelta) problems.push("no message.part.delta")
  if (!idleFrame) problems.push("no session.idle within 30 s")
  if (kind === "tool" && reply.status === 200) {
    const messages = await api(server, "GET", `/session/${sessionID}/message${query}`)
    const tool = (messages.json ?? []).flatMap((m: any) => m.parts ?? []).find((p: any) => p.type === "tool")
    const want = server.runsTools ? "completed" : "error"
    if (tool?.state?.status !== want) problems.push(`tool part ${tool?.state?.status ?? "missing"} (expected ${want}): ${String(tool?.state?.error ?? "").slice(0, 200)}`)
    else if (server.runsTools && !String(tool.state.output).includes("hi")) problems.push(`bash output ${JSON.stringify(tool.state.output)}`)
  }
  if (problems.length) result.problem = problems.join("; ")
  await stream.waitFor((f) => f.type === "session.updated" && sessionOf(f) === sessionID && f.properties?.info?.title === BENCH_TITLE, from, titleWaitMs)
  return result
}
