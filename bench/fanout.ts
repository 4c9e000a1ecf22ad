/**
 * SSE fan-out bench (issue #3, "## Bench").
 *
 *   npx tsx bench/fanout.ts [--subscribers 1000] [--updates 100] [--targets baseline,local,worker]
 *                           [--timeout 60] [--connect-timeout 60] [--profile <dir>]
 *
 * N subscribers hold `GET /event?directory=<dir>` open; K session title updates are sent with
 * `PATCH /session/:id?directory=<dir>` `{"title":"bench-<k>"}`, each of which publishes one
 * `session.updated` frame to every subscriber. Expected deliveries = N * K.
 *
 * Method, identical for every target:
 * - Each target server runs in its own child process (started here on 127.0.0.1, random free port), so the
 *   subscribers (this process) and the server never share an event loop.
 *     baseline: a bare `node:http` SSE broadcaster (this file with `--serve-baseline`): same framing
 *               (`id:` + `data:` lines), same-shaped session.updated payload, `POST /publish` per update that
 *               serialises the frame once and `res.write`s it to every open response.
 *     local:    the local agent as `npm start` runs it (`node dist/agent.mjs serve`, fresh temp state dir and HOME), running
 *               agent turns with the scripted model in a session of another directory, one after another, from the
 *               first send to the last delivery (the model server runs in this process).
 *     worker:   `wrangler dev` (skipped with a message when worker/ or a wrangler config is missing or it
 *               does not answer `GET /global/health`).
 * - Subscribers are raw `node:http` requests (agent keepAlive false, maxSockets Infinity), opened with a
 *   bounded concurrency of 100; frames are parsed incrementally. Updates start only once every subscriber
 *   has received its `server.connected` frame.
 * - Updates are sent SEQUENTIALLY: each PATCH (or baseline POST) is awaited before the next is sent, over one
 *   keep-alive connection.
 * - Latency of one delivery = arrival time of the chunk holding the frame at a subscriber - time taken just
 *   before the update request carrying `bench-<k>` was sent. Deliveries/s = unique deliveries / (time from the
 *   first send to the last delivery). Duplicates are not counted.
 * - After the last send we wait until everything arrived or `--timeout` seconds pass, and report what arrived.
 * - `--profile <dir>` runs the Node server children with `--cpu-prof --cpu-prof-dir <dir>` (written on SIGTERM exit), and
 *   profiles the worker through wrangler's inspector from the first send to the last delivery (`<dir>/worker.cpuprofile`,
 *   with the functions taking the most time printed).
 */
import { execSync } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import http from "node:http"
import type net from "node:net"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { freePort, wranglerDev } from "../test/support/targets.ts"
import { startInspectorProfile } from "./inspector-profile.ts"
import { api, benchConfig, cleanEnv, isolatedHome, makeProject, PROMPTS, startBenchModel } from "./turn-support.ts"
import { agentBundle, log, removeTempDirs, ROOT, sleep, startChild, stopChild, tempDir, waitForOutput, type Child } from "./support.ts"

const SELF = fileURLToPath(import.meta.url)

// ---------------------------------------------------------------------------------------------------------
// Baseline broadcaster (child process mode)
// ---------------------------------------------------------------------------------------------------------

function randomId(prefix: string): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  let out = prefix
  for (let i = 0; i < 26; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)]
  return out
}

function serveBaseline() {
  const clients = new Set<http.ServerResponse>()
  const epoch = Date.now().toString(36) + "abcd"
  let seq = 0
  const created = Date.now()
  const sessionID = randomId("ses_")
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x")
    if (req.method === "GET" && url.pathname === "/event") {
      res.writeHead(200, {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",
        "X-Content-Type-Options": "nosniff",
      })
      const connected = JSON.stringify({ id: randomId("evt_"), type: "server.connected", properties: { resume: "initial" } })
      res.write(`id: ${epoch}-${seq}\ndata: ${connected}\n\n`)
      clients.add(res)
      res.on("close", () => clients.delete(res))
      return
    }
    if (req.method === "POST" && url.pathname === "/publish") {
      const directory = url.searchParams.get("directory") ?? "/"
      const chunks: Buffer[] = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const { title } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { title: string }
        // Same shape (and so about the same size) as the local agent's session.updated frame.
        const info = {
          id: sessionID,
          slug: "brave-river",
          projectID: "global",
          directory,
          path: directory.replace(/^\/+/, ""),
          title,
          version: "0.1.0",
          time: { created, updated: Date.now() },
        }
        const data = JSON.stringify({ id: randomId("evt_"), type: "session.updated", properties: { sessionID, info } })
        const frame = `id: ${epoch}-${++seq}\ndata: ${data}\n\n`
        for (const client of clients) client.write(frame)
        const body = JSON.stringify(info)
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
        res.end(body)
      })
      return
    }
    if (url.pathname === "/global/health") {
      res.writeHead(200, { "Content-Type": "application/json" })
      res.end(`{"healthy":true}`)
      return
    }
    res.writeHead(404)
    res.end()
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address() as net.AddressInfo
    process.stdout.write(`baseline listening on http://127.0.0.1:${address.port}\n`)
  })
  const stop = () => {
    for (const client of clients) client.destroy()
    server.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 1000).unref()
  }
  process.on("SIGTERM", stop)
  process.on("SIGINT", stop)
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------------------

const requestAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })
const subscriberAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity })

function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolveRequest, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request(
      new URL(path, base),
      {
        method,
        agent: requestAgent,
        headers: payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) },
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (s: string) => (text += s))
        res.on("end", () => resolveRequest({ status: res.statusCode ?? 0, body: text }))
        res.on("error", reject)
      },
    )
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)))
    req.on("error", reject)
    req.end(payload)
  })
}

async function waitHealthy(base: string, child: Child, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  let last = ""
  while (Date.now() < deadline) {
    if (child.exited) break
    try {
      const res = await request(base, "GET", "/global/health", undefined, 5_000)
      if (res.status === 200) return
      last = `status ${res.status}: ${res.body.slice(0, 200)}`
    } catch (error) {
      last = (error as Error).message
    }
    await sleep(500)
  }
  throw new Error(
    `${child.exited ? `exited (code ${child.exitCode})` : `GET /global/health not OK within ${timeoutMs} ms (${last})`}\n` +
      `stdout: ${child.stdout.slice(-2000)}\nstderr: ${child.stderr.slice(-2000)}`,
  )
}

// ---------------------------------------------------------------------------------------------------------
// Subscribers
// ---------------------------------------------------------------------------------------------------------

interface RunState {
  sendTimes: Float64Array // per update k (1-based index k-1), NaN until sent
  latencies: Float64Array // one per unique delivery
  delivered: number
  duplicates: number
  unmatched: number
  frameBytes: number
  lastArrival: number
}

interface Subscriber {
  req: http.ClientRequest
  seen: Uint8Array
  connected: boolean
  ended: boolean
  received: number
  endedAt: number
}

function openSubscriber(base: string, path: string, state: RunState, K: number, onConnected: (ok: boolean, why?: string) => void): Subscriber {
  const sub: Subscriber = { req: undefined!, seen: new Uint8Array(K + 1), connected: false, ended: false, received: 0, endedAt: 0 }
  let buffer = ""
  let settled = false
  const settle = (ok: boolean, why?: string) => {
    if (settled) return
    settled = true
    onConnected(ok, why)
  }
  const req = http.get(new URL(path, base), { agent: subscriberAgent, headers: { Accept: "text/event-stream" } }, (res) => {
    if (res.statusCode !== 200) {
      settle(false, `status ${res.statusCode}`)
      res.resume()
      return
    }
    res.setEncoding("utf8")
    res.on("data", (chunk: string) => {
      const now = performance.now()
      buffer += chunk
      let end: number
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        handleFrame(frame, now)
      }
    })
    const onEnd = () => {
      if (!sub.ended) sub.endedAt = performance.now()
      sub.ended = true
      settle(false, "stream ended before server.connected")
    }
    res.on("end", onEnd)
    res.on("close", onEnd)
    res.on("error", onEnd)
  })
  req.on("error", (error) => {
    sub.ended = true
    settle(false, error.message)
  })
  sub.req = req

  function handleFrame(frame: string, now: number) {
    const dataAt = frame.indexOf("data: ")
    if (dataAt === -1) return
    if (!sub.connected) {
      if (frame.includes('"server.connected"')) {
        sub.connected = true
        settle(true)
      }
      return
    }
    if (!frame.includes('"session.updated"')) return
    const match = /"title":"bench-(\d+)"/.exec(frame)
    const k = match ? Number(match[1]) : NaN
    if (!(k >= 1 && k <= K) || Number.isNaN(state.sendTimes[k - 1]!)) {
      state.unmatched++
      return
    }
    if (sub.seen[k]) {
      state.duplicates++
      return
    }
    sub.seen[k] = 1
    sub.received++
    state.latencies[state.delivered++] = now - state.sendTimes[k - 1]!
    state.frameBytes += Buffer.byteLength(frame) + 2
    state.lastArrival = now
  }
  return sub
}

// ---------------------------------------------------------------------------------------------------------
// One target
// ---------------------------------------------------------------------------------------------------------

interface Result {
  target: string
  ok: boolean
  error?: string
  connected?: number
  delivered?: number
  expected?: number
  duplicates?: number
  unmatched?: number
  p50?: number
  p99?: number
  max?: number
  perSecond?: number
  sendMs?: number
  totalMs?: number
  frameBytes?: number
  failedSends?: number
  droppedStreams?: number
  droppedNote?: string
}

interface Target {
  name: string
  /** `inspectorPort`: where `--profile` takes a CPU profile of a server that is not a Node child (wrangler dev). */
  start(): Promise<{ base: string; child: Child; inspectorPort?: number }>
  /** Returns the path an update with this title is sent to and how. */
  prepare(base: string, directory: string): Promise<(title: string) => Promise<{ status: number; body: string }>>
  /** Work the server does beside the broadcast, from the first send to the last delivery; `stop` says what ran. */
  alongside?(base: string): Promise<{ stop(): Promise<string> }>
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

async function runTarget(
  target: Target,
  N: number,
  K: number,
  opts: { timeoutMs: number; connectTimeoutMs: number; profileDir?: string },
): Promise<Result> {
  log(`\n[${target.name}] starting`)
  let started: { base: string; child: Child; inspectorPort?: number }
  try {
    started = await target.start()
  } catch (error) {
    return { target: target.name, ok: false, error: `failed to start: ${(error as Error).message}` }
  }
  const { base, child } = started
  const subscribers: Subscriber[] = []
  try {
    const directory = tempDir("bench-fanout-dir-")
    const send = await target.prepare(base, directory)
    const state: RunState = {
      sendTimes: new Float64Array(K).fill(NaN),
      latencies: new Float64Array(N * K),
      delivered: 0,
      duplicates: 0,
      unmatched: 0,
      frameBytes: 0,
      lastArrival: 0,
    }
    const eventPath = `/event?directory=${encodeURIComponent(directory)}`

    // Connect N subscribers, at most 100 handshakes in flight, and wait for every server.connected.
    log(`[${target.name}] connecting ${N} subscribers to ${base}${eventPath}`)
    const connectStart = performance.now()
    let connected = 0
    let failed = 0
    const failures = new Map<string, number>()
    let inFlight = 0
    let next = 0
    await new Promise<void>((resolveAll) => {
      const deadline = setTimeout(resolveAll, opts.connectTimeoutMs)
      const pump = () => {
        while (inFlight < 100 && next < N) {
          next++
          inFlight++
          subscribers.push(
            openSubscriber(base, eventPath, state, K, (ok, why) => {
              inFlight--
              if (ok) connected++
              else {
                failed++
                failures.set(why ?? "?", (failures.get(why ?? "?") ?? 0) + 1)
              }
              if (connected + failed === N) {
                clearTimeout(deadline)
                resolveAll()
              } else pump()
            }),
          )
        }
      }
      pump()
    })
    log(`[${target.name}] ${connected}/${N} subscribers connected in ${(performance.now() - connectStart).toFixed(0)} ms`)
    if (connected < N) {
      const reasons = [...failures].map(([why, n]) => `${n}x ${why}`).join("; ")
      log(`[${target.name}] WARNING: ${N - connected} subscribers not connected (${reasons || "timed out"}); measuring the rest`)
    }

    const profile = opts.profileDir && started.inspectorPort ? await startInspectorProfile(started.inspectorPort) : undefined
    const alongside = await target.alongside?.(base)
    // Send K updates sequentially.
    let failedSends = 0
    const firstSend = performance.now()
    for (let k = 1; k <= K; k++) {
      state.sendTimes[k - 1] = performance.now()
      try {
        const res = await send(`bench-${k}`)
        if (res.status !== 200) {
          failedSends++
          if (failedSends <= 3) log(`[${target.name}] update ${k}: status ${res.status} ${res.body.slice(0, 200)}`)
        }
      } catch (error) {
        failedSends++
        if (failedSends <= 3) log(`[${target.name}] update ${k}: ${(error as Error).message}`)
      }
    }
    const sendMs = performance.now() - firstSend
    if (failedSends) log(`[${target.name}] server's stderr, last lines:\n${child.stderr.slice(-1500)}`)
    const expected = N * K
    log(`[${target.name}] ${K} updates sent in ${sendMs.toFixed(0)} ms; waiting for deliveries (max ${opts.timeoutMs / 1000} s)`)

    const waitUntil = Date.now() + opts.timeoutMs
    while (state.delivered < expected && Date.now() < waitUntil) {
      // Stop early once nothing can arrive any more.
      if (subscribers.every((s) => s.ended)) break
      await sleep(20)
    }
    if (alongside) log(`[${target.name}] alongside the broadcast: ${await alongside.stop()}`)
    if (profile) {
      const file = join(opts.profileDir!, `${target.name}.cpuprofile`)
      log(`[${target.name}] CPU profile of the sends and deliveries in ${file}; self time:\n${(await profile.stop(file)).join("\n")}`)
    }
    const dropped = subscribers.filter((s) => s.connected && s.ended)
    const short = subscribers.filter((s) => s.connected && s.received < K)
    if (short.length) {
      const counts = short.map((s) => s.received).sort((a, b) => a - b)
      log(`[${target.name}] ${short.length} subscribers missed updates: received min ${counts[0]} / median ${counts[counts.length >> 1]} / max ${counts.at(-1)} of ${K}`)
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
    const droppedNote = dropped.length
      ? ` (having received min ${Math.min(...dropped.map((s) => s.received))} / median ${median(dropped.map((s) => s.received))} updates; ` +
        `${fmt(median(dropped.map((s) => s.endedAt - firstSend)) / 1000, 2)} s after the first send; wrangler dev reloads on file changes drop streams)`
      : ""
    const latencies = state.latencies.slice(0, state.delivered).sort()
    const spanMs = (state.lastArrival || performance.now()) - firstSend
    return {
      target: target.name,
      ok: true,
      connected,
      delivered: state.delivered,
      expected,
      duplicates: state.duplicates,
      unmatched: state.unmatched,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies.length ? latencies[latencies.length - 1] : NaN,
      perSecond: state.delivered / (spanMs / 1000),
      sendMs,
      totalMs: spanMs,
      frameBytes: state.delivered ? state.frameBytes / state.delivered : NaN,
      failedSends,
      droppedStreams: dropped.length,
      droppedNote,
    }
  } catch (error) {
    return { target: target.name, ok: false, error: (error as Error).message }
  } finally {
    for (const sub of subscribers) sub.req.destroy()
    await stopChild(child)
    log(`[${target.name}] stopped`)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------------------

function nodeArgs(profileDir: string | undefined, name: string): string[] {
  if (!profileDir) return []
  const dir = join(profileDir, name)
  mkdirSync(dir, { recursive: true })
  return ["--cpu-prof", "--cpu-prof-dir", dir]
}

function baselineTarget(profileDir?: string): Target {
  return {
    name: "baseline",
    async start() {
      const child = startChild("baseline", process.execPath, [...nodeArgs(profileDir, "baseline"), "--import", "tsx", SELF, "--serve-baseline"])
      const [, base] = await waitForOutput(child, /baseline listening on (http:\/\/\S+)/, 30_000)
      return { base: base!, child }
    },
    async prepare(base, directory) {
      const path = `/publish?directory=${encodeURIComponent(directory)}`
      return (title) => request(base, "POST", path, { title })
    },
  }
}

async function prepareSession(base: string, directory: string) {
  const query = `?directory=${encodeURIComponent(directory)}`
  const created = await request(base, "POST", `/session${query}`, {})
  if (created.status !== 200) throw new Error(`POST /session: status ${created.status} ${created.body.slice(0, 300)}`)
  const { id } = JSON.parse(created.body) as { id: string }
  const path = `/session/${encodeURIComponent(id)}${query}`
  return (title: string) => request(base, "PATCH", path, { title })
}

function localTarget(profileDir?: string): Target {
  return {
    name: "local",
    async start() {
      const state = tempDir("bench-fanout-state-")
      const child = startChild("local", process.execPath, [
        ...nodeArgs(profileDir, "local"),
        await agentBundle(),
        "serve",
        "--port",
        "0",
        "--state",
        state,
        "--log-level",
        "warn",
      ], cleanEnv(isolatedHome("bench-fanout-home-")))
      const [, base] = await waitForOutput(child, /opencode server listening on (http:\/\/\S+)/, 60_000)
      return { base: base!, child }
    },
    prepare: prepareSession,
    alongside: turnsInAnotherSession,
  }
}

/**
 * Agent turns with the scripted model (bench/turn-support.ts), one after another in a session of another directory,
 * so the server runs turns while it broadcasts (their events go to that directory's subscribers, of which there are none).
 */
async function turnsInAnotherSession(base: string): Promise<{ stop(): Promise<string> }> {
  const model = await startBenchModel({ firstChunkDelayMs: 5, chunkDelayMs: 5 })
  const server = { base: base.replace(/\/$/, ""), headers: {} }
  const query = `?directory=${encodeURIComponent(makeProject("bench-fanout-turns-", false))}`
  const configured = await api(server, "PATCH", `/config${query}`, benchConfig(model))
  if (configured.status !== 200) throw new Error(`PATCH /config: ${configured.status} ${configured.text.slice(0, 300)}`)
  let sessionID = ""
  const turn = async () => {
    const reply = await api(server, "POST", `/session/${sessionID}/message${query}`, { parts: [{ type: "text", text: PROMPTS.plain }] })
    return reply.status === 200 && reply.json?.info?.finish === "stop" ? undefined : `${reply.status} ${reply.text.slice(0, 200)}`
  }
  const newSession = async () => (sessionID = (await api(server, "POST", `/session${query}`, { title: "bench turns" })).json.id)
  // One turn first, so the modules a turn loads (the model SDK, the tools) are loaded before the broadcast starts.
  await newSession()
  const warmup = await turn()
  if (warmup) throw new Error(`a warm-up turn failed: ${warmup}`)
  let running = true
  let turns = 0
  const failures: string[] = []
  const loop = (async () => {
    while (running) {
      // A fresh session every 20 turns, so the history each turn sends stays small.
      if (turns > 0 && turns % 20 === 0) await newSession()
      const failure = await turn()
      if (failure) failures.push(failure)
      else turns++
    }
  })()
  return {
    async stop() {
      running = false
      await loop.catch((error) => failures.push((error as Error).message))
      await model.server.close()
      return `${turns} agent turns in another session${failures.length ? `; ${failures.length} failed, first: ${failures[0]}` : ""}`
    },
  }
}

function workerTarget(): Target {
  return {
    name: "worker",
    async start() {
      const hasConfig = ["wrangler.toml", "wrangler.json", "wrangler.jsonc"].some((f) => existsSync(join(ROOT, f)))
      const hasWorker = existsSync(join(ROOT, "worker")) && execSync("ls -A worker", { cwd: ROOT }).toString().trim() !== ""
      if (!hasWorker || !hasConfig) {
        throw new Error(`worker not available (${!hasWorker ? "worker/ missing or empty" : "no wrangler.toml/json(c)"})`)
      }
      const persist = tempDir("bench-fanout-wrangler-")
      const port = await freePort()
      const inspectorPort = await freePort()
      const wrangler = wranglerDev(port, inspectorPort, persist)
      // The edge answers unpaired requests only for an open tenant, as `npm run dev` sets.
      wrangler.args.push("--var", "OPENCODE_OPEN_TENANT:local")
      const child = startChild("wrangler", wrangler.command, wrangler.args, { ...process.env, ...wrangler.env })
      const base = `http://127.0.0.1:${port}`
      try {
        await waitHealthy(base, child, 120_000)
      } catch (error) {
        await stopChild(child)
        throw error
      }
      return { base, child, inspectorPort }
    },
    prepare: prepareSession,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

function fdLimit(): number {
  try {
    const out = execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim()
    return out === "unlimited" ? Infinity : Number(out)
  } catch {
    return NaN
  }
}

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || Number.isNaN(n) ? "-" : n.toFixed(digits)
}

async function main() {
  const { values } = parseArgs({
    options: {
      subscribers: { type: "string", default: "1000" },
      updates: { type: "string", default: "100" },
      targets: { type: "string", default: "baseline,local,worker" },
      timeout: { type: "string", default: "60" },
      "connect-timeout": { type: "string", default: "60" },
      profile: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  })
  if (values.help) {
    log("Usage: npx tsx bench/fanout.ts [--subscribers N] [--updates K] [--targets baseline,local,worker] [--timeout s] [--connect-timeout s] [--profile dir]")
    return
  }
  const N = Number(values.subscribers)
  const K = Number(values.updates)
  const timeoutMs = Number(values.timeout) * 1000
  const connectTimeoutMs = Number(values["connect-timeout"]) * 1000
  for (const [name, v] of [["--subscribers", N], ["--updates", K], ["--timeout", timeoutMs], ["--connect-timeout", connectTimeoutMs]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive whole number`)
  }
  const names = values.targets!.split(",").map((s) => s.trim()).filter(Boolean)
  for (const name of names) if (!["baseline", "local", "worker"].includes(name)) throw new Error(`unknown target: ${name}`)

  // Each subscriber costs one fd here and one in the server child (which inherits this limit).
  const limit = fdLimit()
  const needed = N + 256
  if (!(limit >= needed)) {
    process.stderr.write(
      `bench/fanout: the open-file limit is ${limit}, but ${N} subscribers need at least ${needed} descriptors ` +
        `(in this process and in each server). Raise it, e.g. \`ulimit -n ${Math.max(4096, needed * 2)}\`, or pass fewer --subscribers.\n`,
    )
    process.exit(1)
  }

  const profileDir = values.profile ? resolve(values.profile) : undefined
  const factories: Record<string, () => Target> = {
    baseline: () => baselineTarget(profileDir),
    local: () => localTarget(profileDir),
    worker: () => workerTarget(),
  }
  log(`fan-out bench: ${N} subscribers x ${K} updates (sequential sends), fd limit ${limit}, targets ${names.join(",")}`)
  const results: Result[] = []
  for (const name of names) {
    if (profileDir) mkdirSync(profileDir, { recursive: true })
    const result = await runTarget(factories[name]!(), N, K, { timeoutMs, connectTimeoutMs, profileDir })
    if (!result.ok) log(`[${name}] SKIPPED: ${result.error}`)
    results.push(result)
  }
  removeTempDirs()

  const baseline = results.find((r) => r.target === "baseline" && r.ok)
  const header = ["target", "connected", "delivered/expected", "p50 ms", "p99 ms", "max ms", "deliveries/s", "x baseline", "send ms", "frame B"]
  const rows = results.map((r) =>
    r.ok
      ? [
          r.target,
          `${r.connected}/${N}`,
          `${r.delivered}/${r.expected}`,
          fmt(r.p50),
          fmt(r.p99),
          fmt(r.max),
          fmt(r.perSecond, 0),
          baseline && r.perSecond ? fmt(r.perSecond / baseline.perSecond!, 2) : "-",
          fmt(r.sendMs, 0),
          fmt(r.frameBytes, 0),
        ]
      : [r.target, "not run", "-", "-", "-", "-", "-", "-", "-", "-"],
  )
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  log("")
  log(line(header))
  log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) log(line(row))
  for (const r of results) {
    if (!r.ok) log(`${r.target}: not run: ${r.error?.split("\n")[0]}`)
    else if (r.duplicates || r.unmatched || r.failedSends || r.droppedStreams) {
      log(`${r.target}: ${r.duplicates} duplicate frames, ${r.unmatched} unmatched frames, ${r.failedSends} failed updates, ${r.droppedStreams} streams closed early by the server${r.droppedNote}`)
    }
  }
  log("")
  for (const r of results) {
    if (r.target === "baseline" || !r.ok) continue
    log(`${r.target}/baseline deliveries/s ratio: ${baseline ? fmt(r.perSecond! / baseline.perSecond!, 2) : "n/a (baseline not run)"}`)
  }
  const local = results.find((r) => r.target === "local" && r.ok)
  if (local && baseline && N === 1000 && K === 100) {
    const pass = local.delivered === local.expected && local.perSecond! >= 0.8 * baseline.perSecond!
    log(`target (local at 1000x100, turns running, delivers everything at >= 0.8x baseline): ${pass ? "MET" : "NOT MET"}`)
  }
  if (profileDir) log(`CPU profiles in ${profileDir}/<target>/`)
}

if (process.argv.includes("--serve-baseline")) {
  serveBaseline()
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`bench/fanout: ${(error as Error)?.stack ?? error}\n`)
      process.exit(1)
    },
  )
}
