/**
 * Share link bench (issue 12): N viewers on one share link under `wrangler dev`, one new streamed reply.
 *
 *   npx tsx bench/share.ts [--viewers 1000] [--page-loads 1000] [--solo-replies 3] [--chunks 30]
 *                          [--first-chunk-ms 20] [--chunk-ms 20] [--timeout 120] [--connect-timeout 180]
 *
 * Setup: the scripted model (bench/turn-support.ts) answers the plain prompt with --chunks text chunks (the first
 * after --first-chunk-ms, then one every --chunk-ms); our Worker under `wrangler dev` (open tenant, no machine:
 * the Worker calls the model itself), PATCH /config `{share: "manual"}`; one owner stream held open on the tenant's
 * `GET /event?directory=<dir>` (what the owner's client sees).
 *
 * One reply, measured (the same for the solo replies and the N-viewer reply):
 * - a NEW session (POST /session) and its link (POST /session/:id/share); V viewers subscribe to `/s/<id>/event`
 *   (raw node:http requests, agent keepAlive false, maxSockets Infinity, at most 100 handshakes in flight, frames
 *   parsed incrementally); the prompt is sent only once every viewer has its `server.connected` frame;
 * - T0, then `POST /session/:id/message` (answers when the turn ends: "turn");
 * - owner: arrival of the session's first `message.part.delta` ("first") and of the assistant's `message.updated`
 *   with `time.completed` ("complete");
 * - each viewer: arrival of the first `share.message` whose html holds the first chunk ("first") and of the first
 *   whose html holds the last chunk and the completed-time footer (`→ <time`) ("complete");
 * - delivered = viewers with the complete reply; nothing lost = every viewer got the same number of share frames
 *   from T0 until the stream settles (the title is in, then 1 s quiet), with consecutive stream ids (no gaps).
 *   That number is also the share stream's seq delta: the frames the share object appended for the reply.
 * - session events = frames of that session on the owner stream over the same span: each is one `append` in the
 *   session object, and the object sends them to the share object batched (one RPC in flight at a time, all that
 *   gathered meanwhile go in the next), so its RPCs to the share object are at most that many, whatever V is;
 *   the share object appends one `share.header` per call that changed its copy, so those count the calls.
 * - from T0 until settled: CPU seconds of workerd (every object and the Worker relaying SSE run in that one process
 *   under `wrangler dev`), of the rest of wrangler's group, and of this process (viewers' parsing, the model
 *   server), this process's event-loop delay (is the client keeping up?), and when the step request reached the model.
 *
 * Run order, all on one wrangler: the model called directly (warm-up, then 5 calls: its own first chunk and end of
 * stream, the baseline for the reply); one warm-up reply with 1 viewer (not reported); --solo-replies replies with
 * 1 viewer; a wait (≤ 60 s) until the children use < 15% of a core; the reply with --viewers viewers.
 * Ratios: viewers' percentile ÷ the owner stream's time in the same reply, ÷ the model's own median; and, for the
 * session object's work per viewer, the N-viewer reply ÷ the solo replies' median (≈ 1: viewers cost it nothing).
 *
 * Page loads: with the viewers gone, `GET /s/<id>` --page-loads times at concurrency 50 (keep-alive, 50 sockets)
 * against the worker, then the same against a bare node:http server (this file with `--serve-page <file>`, a child
 * process) answering the same HTML bytes; req/s and p50/p99 of each, and worker ÷ baseline.
 *
 * Nothing here asserts on time: it prints what it measured. Every child and temp dir is removed at exit.
 */
import { execSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import http from "node:http"
import type net from "node:net"
import { loadavg } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { log, removeTempDirs, sleep, startChild, stopChild, tempDir, waitForOutput } from "./support.ts"
import {
  api,
  BENCH_TITLE,
  benchConfig,
  childrenCpuByCommand,
  EventStream,
  modelDirect,
  PROMPTS,
  sessionOf,
  startBenchModel,
  startWorker,
  stopServer,
  type BenchModel,
  type Server,
  type Timing,
  waitQuiet,
} from "./turn-support.ts"

const SELF = fileURLToPath(import.meta.url)
const PAGE_CONCURRENCY = 50
const MODEL_CALLS = 5

// ---------------------------------------------------------------------------------------------------------
// Baseline page server (child process mode): the same HTML bytes from bare node:http
// ---------------------------------------------------------------------------------------------------------

function servePage(file: string) {
  const html = readFileSync(file)
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=UTF-8", "Content-Length": html.length, "Cache-Control": "no-store" })
    res.end(html)
  })
  server.listen(0, "127.0.0.1", () => process.stdout.write(`page server listening on http://127.0.0.1:${(server.address() as net.AddressInfo).port}\n`))
  process.on("SIGTERM", () => process.exit(0))
}

// ---------------------------------------------------------------------------------------------------------
// The reply's text: markers that tell its first and last chunk apart in the rendered html
// ---------------------------------------------------------------------------------------------------------

function replyChunks(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? `chunk${String(i + 1).padStart(2, "0")}-last.` : `chunk${String(i + 1).padStart(2, "0")} `))
}

// ---------------------------------------------------------------------------------------------------------
// Viewers
// ---------------------------------------------------------------------------------------------------------

const viewerAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity })

interface Viewer {
  req: http.ClientRequest
  connected: boolean
  ended: boolean
  /** Share frames (`share.*`) received since `mark()`. */
  frames: number
  /** Of those, `share.header` frames: the share object appends one per call that changed the session's copy. */
  headers: number
  /** Share frames whose id did not follow the previous one's. */
  gaps: number
  lastSeq: number
  first: number
  complete: number
}

interface Markers {
  first: string
  last: string
}

function openViewer(base: string, path: string, markers: Markers, onConnected: (ok: boolean, why?: string) => void): Viewer {
  const viewer: Viewer = { req: undefined!, connected: false, ended: false, frames: 0, headers: 0, gaps: 0, lastSeq: NaN, first: NaN, complete: NaN }
  let settled = false
  const settle = (ok: boolean, why?: string) => {
    if (settled) return
    settled = true
    onConnected(ok, why)
  }
  let buffer = ""
  const handle = (frame: string, at: number) => {
    if (!viewer.connected) {
      if (frame.includes('"server.connected"')) {
        viewer.connected = true
        settle(true)
      }
      return
    }
    if (!frame.includes('"type":"share.')) return // heartbeats repeat the last id
    const seq = Number(/^id: *\S*-(\d+)$/m.exec(frame)?.[1])
    if (!Number.isNaN(viewer.lastSeq) && seq !== viewer.lastSeq + 1) viewer.gaps++
    viewer.lastSeq = seq
    viewer.frames++
    if (frame.includes('"type":"share.header"')) viewer.headers++
    if (!frame.includes('"type":"share.message"')) return
    if (Number.isNaN(viewer.first) && frame.includes(markers.first)) viewer.first = at
    if (Number.isNaN(viewer.complete) && frame.includes(markers.last) && frame.includes("→ <time")) viewer.complete = at
  }
  const req = http.get(new URL(path, base), { agent: viewerAgent, headers: { Accept: "text/event-stream" } }, (res) => {
    if (res.statusCode !== 200) {
      settle(false, `status ${res.statusCode}`)
      res.resume()
      return
    }
    res.setEncoding("utf8")
    res.on("data", (chunk: string) => {
      const at = performance.now()
      buffer += chunk
      let end: number
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        handle(buffer.slice(0, end), at)
        buffer = buffer.slice(end + 2)
      }
    })
    const onEnd = () => {
      viewer.ended = true
      settle(false, "stream ended before server.connected")
    }
    res.on("close", onEnd)
    res.on("error", onEnd)
  })
  req.on("error", (error) => {
    viewer.ended = true
    settle(false, error.message)
  })
  viewer.req = req
  return viewer
}

/** Opens `count` viewers, at most 100 handshakes in flight; resolves when all are connected or failed, or at the deadline. */
async function connectViewers(base: string, path: string, markers: Markers, count: number, ms: number) {
  const viewers: Viewer[] = []
  const failures = new Map<string, number>()
  let connected = 0
  let failed = 0
  let inFlight = 0
  await new Promise<void>((resolveAll) => {
    const deadline = setTimeout(resolveAll, ms)
    const pump = () => {
      while (inFlight < 100 && viewers.length < count) {
        inFlight++
        viewers.push(
          openViewer(base, path, markers, (ok, why) => {
            inFlight--
            if (ok) connected++
            else {
              failed++
              failures.set(why ?? "?", (failures.get(why ?? "?") ?? 0) + 1)
            }
            if (connected + failed === count) {
              clearTimeout(deadline)
              resolveAll()
            } else pump()
          }),
        )
      }
    }
    pump()
  })
  return { viewers, connected, failures: [...failures].map(([why, n]) => `${n}x ${why}`).join("; ") }
}

// ---------------------------------------------------------------------------------------------------------
// One reply on a new shared session
// ---------------------------------------------------------------------------------------------------------

interface Reply {
  viewers: number
  connected: number
  connectMs: number
  /** Relative to T0 (ms). */
  ownerFirst: number
  ownerComplete: number
  turn: number
  viewerFirst: number[]
  viewerComplete: number[]
  /** Viewers with the complete reply. */
  delivered: number
  /** Share frames per connected viewer from T0 until settled. */
  frameCounts: number[]
  /** share.header frames per connected viewer: the share object's calls from the session object that changed something. */
  headerCounts: number[]
  gaps: number
  droppedStreams: number
  sessionEvents: number
  /** CPU seconds from T0 until settled: wrangler's workerd (every object and the Worker), the rest of its group, this process. */
  cpu: { workerd: number; wrangler: number; client: number }
  /** This process's event-loop delay over the same span (ms): the viewers' parsing and the model server share it. */
  loopDelay: { p99: number; max: number }
  /** ms from T0 to the turn's step request reaching the model. */
  toModel: number
  problems: string[]
  /** The link's path, and its viewers (still open; the caller closes them). */
  sharePath: string
  open: Viewer[]
}

interface Options {
  markers: Markers
  timeoutMs: number
  connectTimeoutMs: number
}

function cpuSplit(byCommand: Map<string, number>) {
  let wrangler = 0
  for (const [command, seconds] of byCommand) if (command !== "workerd") wrangler += seconds
  return { workerd: byCommand.get("workerd") ?? 0, wrangler }
}

async function runReply(worker: Server, model: BenchModel, owner: EventStream, count: number, options: Options): Promise<Reply> {
  const query = `?directory=${encodeURIComponent(worker.directory)}`
  const created = await api(worker, "POST", `/session${query}`, {})
  if (created.status !== 200) throw new Error(`POST /session answered ${created.status}: ${created.text.slice(0, 300)}`)
  const sessionID: string = created.json.id
  const shared = await api(worker, "POST", `/session/${sessionID}/share${query}`)
  const url = shared.json?.share?.url
  if (shared.status !== 200 || typeof url !== "string") throw new Error(`POST /session/:id/share answered ${shared.status}: ${shared.text.slice(0, 300)}`)
  const sharePath = new URL(url).pathname

  const connectStart = performance.now()
  const { viewers, connected, failures } = await connectViewers(worker.base, `${sharePath}/event`, options.markers, count, options.connectTimeoutMs)
  const connectMs = performance.now() - connectStart
  const problems: string[] = []
  if (connected < count) problems.push(`${count - connected} viewers not connected (${failures || "timed out"})`)
  const live = viewers.filter((v) => v.connected)
  for (const viewer of live) {
    viewer.frames = 0
    viewer.headers = 0
    viewer.gaps = 0
    viewer.lastSeq = NaN
  }

  const from = owner.frames.length
  const steps = model.steps.length
  const cpuBefore = cpuSplit(childrenCpuByCommand())
  const clientBefore = process.cpuUsage()
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const t0 = performance.now()
  const answer = await api(worker, "POST", `/session/${sessionID}/message${query}`, { parts: [{ type: "text", text: PROMPTS.plain }] }, options.timeoutMs)
  const turn = performance.now() - t0
  if (answer.status !== 200) problems.push(`POST message answered ${answer.status}: ${answer.text.slice(0, 200)}`)
  else if (answer.json?.info?.finish !== "stop") problems.push(`finish ${answer.json?.info?.finish}`)

  const deadline = Date.now() + options.timeoutMs
  while (live.some((v) => Number.isNaN(v.complete) && !v.ended) && Date.now() < deadline) await sleep(20)
  // Settle: the generated title (it may come after the reply), then 1 s without share frames.
  await owner.waitFor((f) => f.type === "session.updated" && sessionOf(f) === sessionID && f.properties?.info?.title === BENCH_TITLE, from, 5_000)
  let total = -1
  while (Date.now() < deadline) {
    const now = live.reduce((sum, v) => sum + v.frames, 0)
    if (now === total) break
    total = now
    await sleep(1_000)
  }
  loop.disable()
  const cpuAfter = cpuSplit(childrenCpuByCommand())
  const client = process.cpuUsage(clientBefore)
  const cpu = { workerd: cpuAfter.workerd - cpuBefore.workerd, wrangler: cpuAfter.wrangler - cpuBefore.wrangler, client: (client.user + client.system) / 1e6 }

  const mine = owner.frames.slice(from).filter((f) => sessionOf(f) === sessionID)
  const firstDelta = mine.find((f) => f.type === "message.part.delta")
  const completed = mine.find((f) => f.type === "message.updated" && f.properties?.info?.role === "assistant" && f.properties.info.time?.completed !== undefined)
  if (!firstDelta) problems.push("owner: no message.part.delta")
  if (!completed) problems.push("owner: no completed assistant message.updated")
  const done = live.filter((v) => !Number.isNaN(v.complete))
  return {
    viewers: count,
    connected,
    connectMs,
    ownerFirst: (firstDelta?.at ?? NaN) - t0,
    ownerComplete: (completed?.at ?? NaN) - t0,
    turn,
    viewerFirst: live.filter((v) => !Number.isNaN(v.first)).map((v) => v.first - t0),
    viewerComplete: done.map((v) => v.complete - t0),
    delivered: done.length,
    frameCounts: live.map((v) => v.frames),
    headerCounts: live.map((v) => v.headers),
    gaps: live.reduce((sum, v) => sum + v.gaps, 0),
    droppedStreams: live.filter((v) => v.ended).length,
    sessionEvents: mine.length,
    cpu,
    loopDelay: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    toModel: (model.steps[steps]?.at ?? NaN) - t0,
    problems,
    sharePath,
    open: viewers,
  }
}

function closeViewers(reply: Reply) {
  for (const viewer of reply.open) viewer.req.destroy()
}

// ---------------------------------------------------------------------------------------------------------
// Page loads
// ---------------------------------------------------------------------------------------------------------

interface Loads {
  ok: number
  mismatched: number
  failed: number
  perSecond: number
  latencies: number[]
}

/** GET `url` `count` times, `PAGE_CONCURRENCY` at a time over keep-alive sockets; a 200 whose body differs from `expected` is mismatched. */
async function loadPage(url: string, count: number, expected: string): Promise<Loads> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: PAGE_CONCURRENCY })
  const latencies: number[] = []
  let ok = 0
  let mismatched = 0
  let failed = 0
  let next = 0
  const one = () =>
    new Promise<void>((resolveOne) => {
      const start = performance.now()
      const req = http.get(url, { agent }, (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (s: string) => (body += s))
        res.on("end", () => {
          latencies.push(performance.now() - start)
          if (res.statusCode !== 200) failed++
          else if (body !== expected) mismatched++
          else ok++
          resolveOne()
        })
      })
      req.setTimeout(30_000, () => req.destroy(new Error("timed out")))
      req.on("error", () => {
        failed++
        resolveOne()
      })
    })
  const start = performance.now()
  await Promise.all(
    Array.from({ length: PAGE_CONCURRENCY }, async () => {
      while (next < count) {
        next++
        await one()
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  agent.destroy()
  return { ok, mismatched, failed, perSecond: count / seconds, latencies }
}

// ---------------------------------------------------------------------------------------------------------
// Report helpers
// ---------------------------------------------------------------------------------------------------------

function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

const median = (values: number[]) => percentile(values, 0.5)

function fmt(n: number, digits = 1): string {
  return Number.isNaN(n) || !Number.isFinite(n) ? "-" : n.toFixed(digits)
}

function table(header: string[], rows: string[][], leftColumns = 1) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  log(line(header))
  log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) log(line(row))
}

function fdLimit(): number {
  try {
    const out = execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim()
    return out === "unlimited" ? Infinity : Number(out)
  } catch {
    return NaN
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: {
      viewers: { type: "string", default: "1000" },
      "page-loads": { type: "string", default: "1000" },
      "solo-replies": { type: "string", default: "3" },
      chunks: { type: "string", default: "30" },
      "first-chunk-ms": { type: "string", default: "20" },
      "chunk-ms": { type: "string", default: "20" },
      timeout: { type: "string", default: "120" },
      "connect-timeout": { type: "string", default: "180" },
      help: { type: "boolean", short: "h" },
    },
  })
  if (values.help) {
    log("Usage: npx tsx bench/share.ts [--viewers 1000] [--page-loads 1000] [--solo-replies 3] [--chunks 30] [--first-chunk-ms 20] [--chunk-ms 20] [--timeout s] [--connect-timeout s]")
    return
  }
  const N = Number(values.viewers)
  const M = Number(values["page-loads"])
  const SOLO = Number(values["solo-replies"])
  const CHUNKS = Number(values.chunks)
  const FIRST_MS = Number(values["first-chunk-ms"])
  const CHUNK_MS = Number(values["chunk-ms"])
  const timeoutMs = Number(values.timeout) * 1000
  const connectTimeoutMs = Number(values["connect-timeout"]) * 1000
  for (const [name, v, min] of [
    ["--viewers", N, 1],
    ["--page-loads", M, 1],
    ["--solo-replies", SOLO, 1],
    ["--chunks", CHUNKS, 2],
    ["--first-chunk-ms", FIRST_MS, 0],
    ["--chunk-ms", CHUNK_MS, 0],
    ["--timeout", timeoutMs, 1],
    ["--connect-timeout", connectTimeoutMs, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be a whole number ≥ ${min}`)
  }
  const limit = fdLimit()
  if (!(limit >= N + 256)) {
    process.stderr.write(`bench/share: the open-file limit is ${limit}; ${N} viewers need at least ${N + 256}. Raise it (ulimit -n) or pass fewer --viewers.\n`)
    process.exit(1)
  }

  const chunks = replyChunks(CHUNKS)
  const markers: Markers = { first: chunks[0]!.trim(), last: chunks.at(-1)! }
  const options: Options = { markers, timeoutMs, connectTimeoutMs }
  log(
    `share bench: ${N} viewers on one link, a reply of ${CHUNKS} chunks (first after ${FIRST_MS} ms, then every ${CHUNK_MS} ms), ` +
      `${M} page loads; fd limit ${limit}; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  )
  const model: BenchModel = await startBenchModel({ firstChunkDelayMs: FIRST_MS, chunkDelayMs: CHUNK_MS }, chunks)
  let worker: Server | undefined
  let owner: EventStream | undefined
  let pageServer: ReturnType<typeof startChild> | undefined
  const direct: Timing[] = []
  const solo: Reply[] = []
  let crowd: Reply | undefined
  let pages: { worker: Loads; baseline: Loads; bytes: number } | undefined
  try {
    for (let i = 0; i < 2; i++) await modelDirect(model, "plain")
    for (let i = 0; i < MODEL_CALLS; i++) direct.push(await modelDirect(model, "plain"))

    log("[worker] starting wrangler dev")
    worker = (await startWorker(model, { withMachine: false })).worker
    const configured = await api(worker, "PATCH", `/config?directory=${encodeURIComponent(worker.directory)}`, { ...benchConfig(model), share: "manual" })
    if (configured.status !== 200) throw new Error(`PATCH /config {share: "manual"} answered ${configured.status}: ${configured.text.slice(0, 300)}`)
    owner = await EventStream.open(worker)
    log(`[worker] up at ${worker.base}; owner stream open; warm-up reply with 1 viewer`)
    closeViewers(await runReply(worker, model, owner, 1, options))

    for (let i = 0; i < SOLO; i++) {
      const reply = await runReply(worker, model, owner, 1, options)
      closeViewers(reply)
      solo.push(reply)
      log(`[solo ${i + 1}/${SOLO}] owner complete ${fmt(reply.ownerComplete, 0)} ms, turn ${fmt(reply.turn, 0)} ms, viewer complete ${fmt(reply.viewerComplete[0] ?? NaN, 0)} ms`)
    }
    const settled = await waitQuiet()
    log(`children ${settled.quiet ? "quiet" : "NOT quiet"} after ${fmt(settled.waitedMs / 1000, 0)} s; connecting ${N} viewers`)

    crowd = await runReply(worker, model, owner, N, options)
    log(
      `[${N} viewers] connected ${crowd.connected}/${N} in ${fmt(crowd.connectMs / 1000, 1)} s; complete reply at ${crowd.delivered}/${N}; ` +
        `owner complete ${fmt(crowd.ownerComplete, 0)} ms, turn ${fmt(crowd.turn, 0)} ms`,
    )
    closeViewers(crowd)

    log(`[pages] ${M} loads of ${crowd.sharePath} at concurrency ${PAGE_CONCURRENCY}: worker, then bare node:http with the same bytes`)
    const page = await api(worker, "GET", crowd.sharePath)
    if (page.status !== 200) throw new Error(`GET ${crowd.sharePath} answered ${page.status}`)
    const file = join(tempDir("bench-share-page-"), "page.html")
    writeFileSync(file, page.text)
    pageServer = startChild("page-server", process.execPath, ["--import", "tsx", SELF, "--serve-page", file])
    const [, pageBase] = await waitForOutput(pageServer, /page server listening on (http:\/\/\S+)/, 30_000)
    await loadPage(`${worker.base}${crowd.sharePath}`, 50, page.text) // warm-up
    await loadPage(`${pageBase}/`, 50, page.text)
    const workerLoads = await loadPage(`${worker.base}${crowd.sharePath}`, M, page.text)
    const baselineLoads = await loadPage(`${pageBase}/`, M, page.text)
    pages = { worker: workerLoads, baseline: baselineLoads, bytes: Buffer.byteLength(page.text) }
  } finally {
    owner?.close()
    if (pageServer) await stopChild(pageServer)
    await stopServer(worker)
    await model.server.close()
    removeTempDirs()
  }
  report({ N, M, direct, solo, crowd: crowd!, pages: pages! })
}

function report({ N, M, direct, solo, crowd, pages }: { N: number; M: number; direct: Timing[]; solo: Reply[]; crowd: Reply; pages: { worker: Loads; baseline: Loads; bytes: number } }) {
  const modelFirst = median(direct.map((t) => t.first))
  const modelEnd = median(direct.map((t) => t.end))
  const soloOwnerFirst = median(solo.map((r) => r.ownerFirst))
  const soloOwnerComplete = median(solo.map((r) => r.ownerComplete))
  const soloTurn = median(solo.map((r) => r.turn))
  const soloViewerFirst = solo.flatMap((r) => r.viewerFirst)
  const soloViewerComplete = solo.flatMap((r) => r.viewerComplete)
  const lagFirst = crowd.viewerFirst.map((t) => t - crowd.ownerFirst)
  const lagComplete = crowd.viewerComplete.map((t) => t - crowd.ownerComplete)

  log("")
  log(`== 1. One reply, ${N} viewers on its share link (ms from sending POST /session/:id/message) ==`)
  const minFrames = Math.min(...crowd.frameCounts)
  const maxFrames = Math.max(...crowd.frameCounts)
  log(
    `delivered: complete reply at ${crowd.delivered}/${N} viewers (${crowd.connected}/${N} connected); share frames per viewer ` +
      `${minFrames === maxFrames ? `all ${minFrames}` : `min ${minFrames} max ${maxFrames} (NOT the same)`}; id gaps ${crowd.gaps}; ` +
      `streams closed by the server ${crowd.droppedStreams}`,
  )
  const row = (what: string, n: number, first: number[], complete: number[]) => [
    what,
    String(n),
    fmt(percentile(first, 0.5)),
    fmt(percentile(first, 0.99)),
    fmt(percentile(complete, 0.5)),
    fmt(percentile(complete, 0.99)),
    fmt(Math.max(...complete)),
  ]
  table(
    ["", "n", "first p50", "p99", "complete p50", "p99", "max"],
    [
      row("model (direct call)", direct.length, direct.map((t) => t.first), direct.map((t) => t.end)),
      row(`owner /event, 1 viewer (${solo.length} replies)`, solo.length, solo.map((r) => r.ownerFirst), solo.map((r) => r.ownerComplete)),
      row(`owner /event, ${N} viewers`, 1, [crowd.ownerFirst], [crowd.ownerComplete]),
      row(`viewers, 1 viewer (${solo.length} replies)`, soloViewerComplete.length, soloViewerFirst, soloViewerComplete),
      row(`viewers, ${N} viewers`, crowd.viewerComplete.length, crowd.viewerFirst, crowd.viewerComplete),
      row(`fan-out lag (viewer − owner), ${N}`, lagComplete.length, lagFirst, lagComplete),
    ],
  )
  const ratio = (a: number, b: number) => fmt(a / b, 2)
  log(
    `viewers (${N}) ÷ owner stream: first p50 ${ratio(percentile(crowd.viewerFirst, 0.5), crowd.ownerFirst)} p99 ${ratio(percentile(crowd.viewerFirst, 0.99), crowd.ownerFirst)}; ` +
      `complete p50 ${ratio(percentile(crowd.viewerComplete, 0.5), crowd.ownerComplete)} p99 ${ratio(percentile(crowd.viewerComplete, 0.99), crowd.ownerComplete)}`,
  )
  log(
    `viewers (${N}) ÷ model's own time: first p50 ${ratio(percentile(crowd.viewerFirst, 0.5), modelFirst)} p99 ${ratio(percentile(crowd.viewerFirst, 0.99), modelFirst)}; ` +
      `complete p50 ${ratio(percentile(crowd.viewerComplete, 0.5), modelEnd)} p99 ${ratio(percentile(crowd.viewerComplete, 0.99), modelEnd)}`,
  )

  log("")
  log(`== 2. The session object's work per viewer: the reply with 1 viewer (median of ${solo.length}) vs ${N} viewers ==`)
  const work = (what: string, one: number, many: number, digits = 0) => [what, fmt(one, digits), fmt(many, digits), ratio(many, one)]
  table(
    ["", "1 viewer", `${N} viewers`, `ratio ${N}/1`],
    [
      work("owner stream: first delta ms", soloOwnerFirst, crowd.ownerFirst),
      work("owner stream: complete ms", soloOwnerComplete, crowd.ownerComplete),
      work("turn (POST answered) ms", soloTurn, crowd.turn),
      work("session events in the reply", median(solo.map((r) => r.sessionEvents)), crowd.sessionEvents),
      work("share frames appended (seq delta)", median(solo.map((r) => median(r.frameCounts))), median(crowd.frameCounts)),
      work("  of which share.header (= calls)", median(solo.map((r) => median(r.headerCounts))), median(crowd.headerCounts)),
      work("step request at the model ms", median(solo.map((r) => r.toModel)), crowd.toModel),
      work("CPU s: workerd (objects + Worker)", median(solo.map((r) => r.cpu.workerd)), crowd.cpu.workerd, 2),
      work("CPU s: wrangler's node (its proxy)", median(solo.map((r) => r.cpu.wrangler)), crowd.cpu.wrangler, 2),
      work("CPU s: this process (viewers, model)", median(solo.map((r) => r.cpu.client)), crowd.cpu.client, 2),
      work("this process's loop delay p99 ms", median(solo.map((r) => r.loopDelay.p99)), crowd.loopDelay.p99),
      work("this process's loop delay max ms", median(solo.map((r) => r.loopDelay.max)), crowd.loopDelay.max),
    ],
  )
  log(
    `share-object calls per viewer (${N} viewers): ≤ session events ÷ ${N} = ${fmt(crowd.sessionEvents / N, 3)}; share frames appended ÷ ${N} = ${fmt(median(crowd.frameCounts) / N, 3)}; ` +
      `share.header frames ÷ ${N} = ${fmt(median(crowd.headerCounts) / N, 3)}.`,
  )
  log(
    "The session object sends its frames to the share object batched (one RPC in flight, all gathered meanwhile go in the next): " +
      "at most one RPC per session event, fewer when they bunch up, whatever the number of viewers. Each call that changes the copy " +
      "appends one share.message per changed message and one share.header, which the share object (not the session) fans out.",
  )
  const soloWorkerd = median(solo.map((r) => r.cpu.workerd))
  const perViewerCpu = (crowd.cpu.workerd - soloWorkerd) / Math.max(1, N - 1)
  log(`workerd CPU per extra viewer (share object + Worker relaying SSE): ${fmt(perViewerCpu * 1000, 2)} ms for the whole reply`)
  log(
    `Under wrangler dev the Worker and every object run on workerd's one JS thread, so the viewers' fan-out (workerd CPU ` +
      `${fmt(soloWorkerd, 2)} → ${fmt(crowd.cpu.workerd, 2)} s) competes with the session's turn for it: a turn-time ratio above 1 ` +
      `with the session's events and calls flat is that contention, not work the session object does per viewer.`,
  )

  log("")
  log(`== 3. Page loads: GET ${crowd.sharePath} ×${M} at concurrency ${PAGE_CONCURRENCY} (${pages.bytes} bytes) ==`)
  const loads = (what: string, l: Loads) => [
    what,
    `${l.ok}/${M}`,
    String(l.mismatched + l.failed),
    fmt(l.perSecond, 0),
    fmt(percentile(l.latencies, 0.5), 2),
    fmt(percentile(l.latencies, 0.99), 2),
    ratio(l.perSecond, pages.baseline.perSecond),
  ]
  table(["", "ok", "bad", "req/s", "p50 ms", "p99 ms", "÷ baseline req/s"], [loads("baseline (bare node:http, same bytes)", pages.baseline), loads("worker (wrangler dev)", pages.worker)])
  log(`worker p50 ÷ baseline p50: ${ratio(percentile(pages.worker.latencies, 0.5), percentile(pages.baseline.latencies, 0.5))}; the page is rendered once per change and cached in the share object`)

  const problems = [...solo.flatMap((r, i) => r.problems.map((p) => `solo ${i + 1}: ${p}`)), ...crowd.problems.map((p) => `${N} viewers: ${p}`)]
  if (problems.length) {
    log("")
    for (const problem of problems) log(`problem: ${problem}`)
  }
  log("")
  log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores; this process, wrangler and the viewers share them)`)
}

const pageFile = process.argv.indexOf("--serve-page")
if (pageFile >= 0) {
  servePage(process.argv[pageFile + 1]!)
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`bench/share: ${(error as Error)?.stack ?? error}\n`)
      process.exit(1)
    },
  )
}
