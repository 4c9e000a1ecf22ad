/**
 * Tunnel bench (issue #5, "## Bench"): the same machine routes measured directly against the local agent
 * and through the edge (`wrangler dev`) over the agent's one outbound WebSocket tunnel, in the same run.
 *
 *   npx tsx bench/tunnel.ts [--megabytes 20] [--requests 200] [--rounds 3] [--profile <dir>] [--client-deflate]
 *
 * Setup (all children on 127.0.0.1, each in its own process group, stopped at the end):
 * - `wrangler dev` (no OPENCODE_OPEN_TENANT: a paired-only edge), fresh persist dir, until `GET /global/health`.
 * - `node dist/agent.mjs pair --edge <edge> --state <tmp>` → pairing code → `POST /edge/pair` → client token,
 *   sent as `Authorization: Bearer <token>` on every edge request (HTTP and WebSocket upgrade).
 * - `node dist/agent.mjs connect --port 0 --state <tmp>`: waits for "listening on" and "tunnel connected".
 *
 * Per round, direct (local agent URL) then edge (edge URL):
 * - PTY throughput: as bench/pty.ts. `POST /pty` with a command that waits for a line on stdin, then writes
 *   N bytes of "a" and sleeps; connect `/pty/:id/connect?cursor=-1`, wait 300 ms, send "\n", count text-frame
 *   bytes (binary frames are control frames) until N. MB/s = N / (go line → last byte). `DELETE /pty/:id` after.
 * - Request round trip: K sequential `GET /file/content?path=<small file>&directory=<tmp dir>` (fetch, keep-alive),
 *   after 10 warm-up requests; p50/p99 ms and requests/s (K / total time).
 * - `--client-deflate`: the bench's PTY sockets offer permessage-deflate, as browsers do. Off by default so both
 *   paths are alike: the local server's ws never negotiates compression, while workerd accepts it, which would
 *   put a deflate of every frame on the edge path only (deployed, Cloudflare's edge does that work, not the machine).
 * - `--profile <dir>`: the agent runs with `--cpu-prof --cpu-prof-dir <dir>` (written on SIGTERM exit).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import WebSocket from "ws"
import { freePort, wranglerDev } from "../test/support/targets.ts"
import { agentBundle, type Child, children, log, pairAgent, sleep, startChild, stopChild, tempDir, waitFor, withTimeout } from "./support.ts"

const { values } = parseArgs({
  options: {
    megabytes: { type: "string", default: "20" },
    requests: { type: "string", default: "200" },
    rounds: { type: "string", default: "3" },
    profile: { type: "string" },
    "client-deflate": { type: "boolean", default: false },
  },
})
const BYTES = Math.round(Number(values.megabytes) * 1024 * 1024)
const REQUESTS = Number(values.requests)
const ROUNDS = Number(values.rounds)
const TIMEOUT_MS = 180_000
const PTY_ARGS = ["--noprofile", "--norc", "-c", `stty raw -echo; read -r _; head -c ${BYTES} /dev/zero | tr '\\0' a; sleep 60`]

// ---------------------------------------------------------------------------------------------------------
// Setup: edge, pairing, agent with tunnel
// ---------------------------------------------------------------------------------------------------------

async function startEdge(): Promise<{ edge: string; child: Child }> {
  const port = await freePort()
  const wrangler = wranglerDev(port, await freePort(), tempDir("bench-tunnel-wrangler-"))
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("OPENCODE_")) env[name] = value
  const child = startChild("wrangler", wrangler.command, wrangler.args, { ...env, ...wrangler.env })
  const edge = `http://127.0.0.1:${port}`
  let healthy = false
  await waitFor(
    child,
    "GET /global/health",
    () => {
      if (!healthy)
        fetch(`${edge}/global/health`, { signal: AbortSignal.timeout(2_000) })
          .then((res) => (healthy ||= res.ok))
          .catch(() => {})
      return healthy
    },
    120_000,
  )
  return { edge, child }
}

async function startAgent(state: string): Promise<{ url: string; child: Child }> {
  const args = [await agentBundle(), "connect", "--port", "0", "--state", state, "--log-level", "warn"]
  if (values.profile) mkdirSync(resolve(values.profile), { recursive: true })
  const profile = values.profile ? ["--cpu-prof", "--cpu-prof-dir", resolve(values.profile)] : []
  const child = startChild("agent", process.execPath, [...profile, ...args])
  await waitFor(child, "listening", () => /listening on (http:\/\/\S+)/.test(child.stdout), 60_000)
  const url = child.stdout.match(/listening on (http:\/\/\S+)/)![1]!
  await waitFor(child, "tunnel connected", () => child.stdout.includes("tunnel connected"), 60_000)
  return { url, child }
}

// ---------------------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------------------

interface Endpoint {
  name: "direct" | "edge"
  url: string
  headers: Record<string, string>
}

/** CPU seconds (user + system) used so far by each command name in the process groups of the children. */
function groupCpu(): Map<string, number> {
  const groups = new Set([...children].map((child) => child.proc.pid))
  const out = new Map<string, number>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (!groups.has(Number(fields[2]))) continue // fields[2] = pgrp
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, clock ticks
      out.set(comm, (out.get(comm) ?? 0) + seconds)
    } catch {
      // gone
    }
  }
  return out
}

function cpuDelta(before: Map<string, number>, after: Map<string, number>, ms: number): string {
  const parts: string[] = []
  for (const [comm, seconds] of after) {
    const used = seconds - (before.get(comm) ?? 0)
    if (used >= 0.05) parts.push(`${comm} ${((used / (ms / 1000)) * 100).toFixed(0)}%`)
  }
  return parts.join(", ")
}

interface PtyRun {
  ms: number
  frames: number
  cpu: string
}

/** Milliseconds from the go line to the last of BYTES text bytes through `/pty/:id/connect`. */
async function ptyThroughput(endpoint: Endpoint, directory: string): Promise<PtyRun> {
  const q = `directory=${encodeURIComponent(directory)}`
  const created = await fetch(`${endpoint.url}/pty?${q}`, {
    method: "POST",
    headers: { ...endpoint.headers, "Content-Type": "application/json" },
    body: JSON.stringify({ command: "bash", args: PTY_ARGS }),
  })
  if (!created.ok) throw new Error(`${endpoint.name} POST /pty: ${created.status} ${await created.text()}`)
  const pty = (await created.json()) as { id: string }
  const socket = new WebSocket(`${endpoint.url.replace(/^http/, "ws")}/pty/${pty.id}/connect?cursor=-1&${q}`, {
    headers: endpoint.headers,
    perMessageDeflate: values["client-deflate"],
  })
  try {
    await withTimeout(
      `${endpoint.name} pty connect`,
      new Promise((resolveOpen, reject) => socket.once("open", resolveOpen).once("error", reject)),
      30_000,
    )
    let received = 0
    let frames = 0
    let started = 0
    const done = new Promise<number>((resolveDone, reject) => {
      socket.on("message", (data, isBinary) => {
        if (isBinary || !started) return
        received += (data as Buffer).length
        frames++
        if (received >= BYTES) resolveDone(performance.now() - started)
      })
      socket.once("close", (code) => reject(new Error(`${endpoint.name} pty socket closed (${code}) after ${received} bytes`)))
    })
    done.catch(() => {})
    await sleep(300)
    const before = groupCpu()
    const selfBefore = process.cpuUsage()
    started = performance.now()
    socket.send("\n")
    const ms = await withTimeout(`${endpoint.name} pty output`, done, TIMEOUT_MS)
    const self = process.cpuUsage(selfBefore)
    const selfShare = `bench client ${(((self.user + self.system) / 1000 / ms) * 100).toFixed(0)}%`
    const extensions = socket.extensions ? ` [client socket extensions: ${socket.extensions}]` : ""
    return { ms, frames, cpu: `${cpuDelta(before, groupCpu(), ms)}, ${selfShare}${extensions}` }
  } finally {
    socket.removeAllListeners("close")
    socket.close()
    await fetch(`${endpoint.url}/pty/${pty.id}?${q}`, { method: "DELETE", headers: endpoint.headers }).catch(() => {})
  }
}

interface RoundTrip {
  p50: number
  p99: number
  perSecond: number
}

async function roundTrips(endpoint: Endpoint, directory: string, file: string): Promise<RoundTrip> {
  const url = `${endpoint.url}/file/content?path=${encodeURIComponent(file)}&directory=${encodeURIComponent(directory)}`
  const once = async () => {
    const res = await fetch(url, { headers: endpoint.headers })
    const body = await res.text()
    if (!res.ok) throw new Error(`${endpoint.name} GET /file/content: ${res.status} ${body.slice(0, 300)}`)
  }
  for (let i = 0; i < 10; i++) await once()
  const times: number[] = []
  const start = performance.now()
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now()
    await once()
    times.push(performance.now() - t0)
  }
  const total = performance.now() - start
  times.sort((a, b) => a - b)
  const pick = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!
  return { p50: pick(0.5), p99: pick(0.99), perSecond: REQUESTS / (total / 1000) }
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const rate = (ms: number) => BYTES / 1024 / 1024 / (ms / 1000)

interface Row {
  round: number
  ptyDirect: number
  ptyEdge: number
  rtDirect: RoundTrip
  rtEdge: RoundTrip
}

let exitCode = 0
const running: Child[] = []
try {
  const t0 = performance.now()
  const { edge, child: edgeChild } = await startEdge()
  running.push(edgeChild)
  log(`edge ${edge} healthy after ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const state = tempDir("bench-tunnel-state-")
  const token = await pairAgent(edge, state)
  const { url, child: agentChild } = await startAgent(state)
  running.push(agentChild)
  log(`agent ${url}, tunnel connected to ${edge}`)

  const directory = tempDir("bench-tunnel-dir-")
  const file = "small.txt"
  writeFileSync(join(directory, file), "hello tunnel\n".repeat(20)) // 260 bytes
  const direct: Endpoint = { name: "direct", url, headers: {} }
  const viaEdge: Endpoint = { name: "edge", url: edge, headers: { Authorization: `Bearer ${token}` } }

  const rows: Row[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const runDirect = await ptyThroughput(direct, directory)
    const runEdge = await ptyThroughput(viaEdge, directory)
    const ptyDirect = rate(runDirect.ms)
    const ptyEdge = rate(runEdge.ms)
    const rtDirect = await roundTrips(direct, directory, file)
    const rtEdge = await roundTrips(viaEdge, directory, file)
    const row = { round, ptyDirect, ptyEdge, rtDirect, rtEdge }
    rows.push(row)
    log(
      `round ${round}: pty direct ${ptyDirect.toFixed(1)} MB/s, edge ${ptyEdge.toFixed(1)} MB/s; ` +
        `rt p50 direct ${rtDirect.p50.toFixed(2)} ms, edge ${rtEdge.p50.toFixed(2)} ms`,
    )
    const size = (run: PtyRun) => `${run.frames} text frames (avg ${(BYTES / run.frames / 1024).toFixed(1)} KB)`
    log(`  pty direct: ${size(runDirect)}; CPU of children while streaming: ${runDirect.cpu}`)
    log(`  pty edge:   ${size(runEdge)}; CPU of children while streaming: ${runEdge.cpu}`)
  }

  log("")
  log(`PTY output ${values.megabytes} MB per run; ${REQUESTS} sequential GET /file/content per run; ${ROUNDS} rounds`)
  log(
    "round  pty direct MB/s  pty edge MB/s  ratio  | rt direct p50/p99 ms  req/s | rt edge p50/p99 ms  req/s",
  )
  const fmtRt = (rt: RoundTrip) => `${rt.p50.toFixed(2).padStart(7)} / ${rt.p99.toFixed(2).padStart(7)}  ${rt.perSecond.toFixed(0).padStart(5)}`
  for (const row of rows) {
    log(
      `${String(row.round).padEnd(5)}  ${row.ptyDirect.toFixed(1).padStart(15)}  ${row.ptyEdge.toFixed(1).padStart(13)}  ${(row.ptyEdge / row.ptyDirect).toFixed(2).padStart(5)}  | ${fmtRt(row.rtDirect).padStart(20)} | ${fmtRt(row.rtEdge).padStart(18)}`,
    )
  }
  const m = (pick: (row: Row) => number) => median(rows.map(pick))
  log(
    `${"median".padEnd(5)}  ${m((r) => r.ptyDirect).toFixed(1).padStart(15)}  ${m((r) => r.ptyEdge).toFixed(1).padStart(13)}  ${m((r) => r.ptyEdge / r.ptyDirect).toFixed(2).padStart(5)}  | ` +
      `${fmtRt({ p50: m((r) => r.rtDirect.p50), p99: m((r) => r.rtDirect.p99), perSecond: m((r) => r.rtDirect.perSecond) }).padStart(20)} | ` +
      `${fmtRt({ p50: m((r) => r.rtEdge.p50), p99: m((r) => r.rtEdge.p99), perSecond: m((r) => r.rtEdge.perSecond) }).padStart(18)}`,
  )
  log("")
  const ratio = m((r) => r.ptyEdge / r.ptyDirect)
  log(`pty throughput ratio (edge/direct): ${ratio.toFixed(2)}  (median of per-round ratios; target >= 0.50: ${ratio >= 0.5 ? "met" : "NOT met"})`)
  log(`pty throughput median edge / median direct: ${(m((r) => r.ptyEdge) / m((r) => r.ptyDirect)).toFixed(2)}`)
  log(`request round-trip p50: direct ${m((r) => r.rtDirect.p50).toFixed(1)} ms, edge ${m((r) => r.rtEdge.p50).toFixed(1)} ms`)
  log(`request round-trip p99: direct ${m((r) => r.rtDirect.p99).toFixed(1)} ms, edge ${m((r) => r.rtEdge.p99).toFixed(1)} ms`)
  log(`requests/s: direct ${m((r) => r.rtDirect.perSecond).toFixed(0)}, edge ${m((r) => r.rtEdge.perSecond).toFixed(0)}`)
} catch (error) {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`)
  exitCode = 1
} finally {
  // Agent first (so its CPU profile is written on SIGTERM), then the edge.
  for (const child of running.reverse()) await stopChild(child)
  for (const child of [...children]) await stopChild(child)
}
process.exit(exitCode)
