/**
 * Per-request overhead of the local server (issue 14, item 1).
 *
 *   npx tsx bench/overhead.ts [--connections 50] [--seconds 2] [--rounds 5] [--routes get,list,post,doc]
 *
 * Three servers, each in its own child process on 127.0.0.1, answer the same requests with the same bytes:
 *   bare:  a `node:http` handler (this file with `--serve-bare`) that answers each route with the exact body
 *          our server gave for it (read once at the start); the POST parses its JSON body first.
 *   hono:  a minimal Hono app on `@hono/node-server` (`--serve-hono`), same bodies: the framework's own cost.
 *   ours:  the local agent as `npm start` runs it (`node dist/agent.mjs serve`), fresh state, default log level, so the
 *          request log, CORS, directory resolution, the body limit and auth checks all run).
 * Routes: GET /session/:id, GET /session (20 sessions), POST /session (creates one per request), GET /doc.
 * After a one-second warm-up of every route on every server, autocannon drives each route against each server
 * for the same time with the same connections, in rounds (`--rounds`, each server `--seconds` a round, the order
 * turning each round): on a shared machine requests/s drift with whatever else runs, so a ratio is taken within
 * each round, between servers measured seconds apart, and the median of the rounds' ratios is printed, with
 * their range. Each server's own CPU time per request (user + system, from /proc, Linux only, over all rounds)
 * is printed too, with bare's over ours: the ratio of requests/s the two would reach each with a core of its own.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import http from "node:http"
import { loadavg } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import autocannon from "autocannon"
import { freePort } from "../test/support/targets.ts"
import { agentBundle, log, startChild, stopChild, tempDir, waitForOutput, type Child } from "./support.ts"

const SELF = fileURLToPath(import.meta.url)

interface Route {
  name: string
  method: "GET" | "POST"
  path: string
  body?: string
}

/** The bodies to answer with, by `METHOD path`, handed to the bare and hono children in a JSON file. */
type Answers = Record<string, string>

function answerKey(method: string, path: string) {
  return `${method} ${path}`
}

function serveBare(answers: Answers, port: number) {
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/"
    const path = url.split("?")[0]!
    const answer = answers[answerKey(req.method ?? "GET", path)]
    const respond = () => {
      if (answer === undefined) {
        res.writeHead(404).end()
        return
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end(answer)
    }
    if (req.method === "POST") {
      const chunks: Buffer[] = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        JSON.parse(Buffer.concat(chunks).toString("utf8"))
        respond()
      })
      return
    }
    respond()
  })
  server.listen(port, "127.0.0.1", () => process.stdout.write(`listening on ${port}\n`))
}

async function serveHono(answers: Answers, port: number) {
  const { Hono } = await import("hono")
  const { serve } = await import("@hono/node-server")
  const app = new Hono()
  for (const [key, body] of Object.entries(answers)) {
    const [method, path] = key.split(" ") as [string, string]
    if (method === "POST") {
      app.post(path, async (c) => {
        await c.req.json()
        return c.body(body, 200, { "Content-Type": "application/json" })
      })
    } else app.get(path, (c) => c.body(body, 200, { "Content-Type": "application/json" }))
  }
  serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => process.stdout.write(`listening on ${port}\n`))
}

async function startReference(kind: "bare" | "hono", answers: Answers): Promise<{ child: Child; url: string }> {
  const port = await freePort()
  const file = join(tempDir("bench-overhead-answers-"), "answers.json")
  writeFileSync(file, JSON.stringify(answers))
  const child = startChild(kind, process.execPath, ["--import", "tsx", SELF, `--serve-${kind}`, String(port), file])
  await waitForOutput(child, /listening on/, 30_000)
  return { child, url: `http://127.0.0.1:${port}` }
}

async function startOurs(): Promise<{ child: Child; url: string }> {
  const port = await freePort()
  const state = tempDir("bench-overhead-state-")
  const project = tempDir("bench-overhead-project-")
  const child = startChild(
    "ours",
    process.execPath,
    [await agentBundle(), "serve", "--port", String(port), "--state", state, "--directory", project],
    { ...process.env, OPENCODE_SERVER_PASSWORD: "", HOME: state },
  )
  await waitForOutput(child, /listening on/, 60_000)
  return { child, url: `http://127.0.0.1:${port}` }
}

async function requestJSON(url: string, method: string, body?: string): Promise<string> {
  const response = await fetch(url, { method, body, headers: body ? { "Content-Type": "application/json" } : {} })
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`)
  return response.text()
}

/** The process's CPU time so far in ms (user + system), when /proc tells it. */
function cpuMs(pid: number | undefined): number | undefined {
  const file = `/proc/${pid}/stat`
  if (pid === undefined || !existsSync(file)) return undefined
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is 14th, stime 15th.
  const fields = readFileSync(file, "utf8").split(") ")[1]!.split(" ")
  // in clock ticks, 100 a second on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

async function drive(server: { url: string; child: Child }, route: Route, connections: number, seconds: number) {
  const url = server.url
  const cpuBefore = cpuMs(server.child.proc.pid)
  const result = await autocannon({
    url: url + route.path,
    method: route.method,
    connections,
    duration: seconds,
    ...(route.body !== undefined ? { body: route.body, headers: { "Content-Type": "application/json" } } : {}),
  })
  const cpuAfter = cpuMs(server.child.proc.pid)
  const failures = result.errors + result.timeouts + result.non2xx
  return { rps: result.requests.average, requests: result.requests.total, p99: result.latency.p99, failures, cpuMs: cpuAfter !== undefined && cpuBefore !== undefined ? cpuAfter - cpuBefore : undefined }
}

type Measured = Awaited<ReturnType<typeof drive>>

interface Summary {
  rps: number
  p99: number
  failures: number
  /** Median, lowest and highest of each round's requests/s over bare's in the same round. */
  ratio: number
  low: number
  high: number
  cpuPerRequest?: number
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function summarize(runs: Measured[], bare: Measured[]): Summary {
  const ratios = runs.map((run, round) => run.rps / bare[round]!.rps)
  const cpu = runs.every((run) => run.cpuMs !== undefined) ? runs.reduce((sum, run) => sum + run.cpuMs!, 0) : undefined
  const requests = runs.reduce((sum, run) => sum + run.requests, 0)
  return {
    rps: median(runs.map((run) => run.rps)),
    p99: median(runs.map((run) => run.p99)),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
    ratio: median(ratios),
    low: Math.min(...ratios),
    high: Math.max(...ratios),
    cpuPerRequest: cpu !== undefined && requests ? (cpu * 1000) / requests : undefined,
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      connections: { type: "string", default: "50" },
      seconds: { type: "string", default: "2" },
      rounds: { type: "string", default: "5" },
      routes: { type: "string", default: "get,list,post,doc" },
    },
  })
  const connections = Number(values.connections)
  const seconds = Number(values.seconds)
  const rounds = Number(values.rounds)
  const wanted = new Set(values.routes!.split(","))

  const ours = await startOurs()
  const created = JSON.parse(await requestJSON(`${ours.url}/session`, "POST", JSON.stringify({ title: "bench" })))
  for (let i = 1; i < 20; i++) await requestJSON(`${ours.url}/session`, "POST", JSON.stringify({ title: `bench ${i}` }))
  const routes: Route[] = [
    { name: "get", method: "GET" as const, path: `/session/${created.id}` },
    { name: "list", method: "GET" as const, path: "/session" },
    { name: "post", method: "POST" as const, path: "/session", body: JSON.stringify({ title: "bench post" }) },
    { name: "doc", method: "GET" as const, path: "/doc" },
  ].filter((route) => wanted.has(route.name))

  const answers: Answers = {}
  for (const route of routes) answers[answerKey(route.method, route.path)] = await requestJSON(ours.url + route.path, route.method, route.body)
  const bare = await startReference("bare", answers)
  const hono = await startReference("hono", answers)

  // Warm-up: every server's JIT sees every route before anything is measured. The POST warms up in another
  // directory, so the sessions it makes do not lengthen the measured list.
  const elsewhere = `?directory=${encodeURIComponent(tempDir("bench-overhead-warmup-"))}`
  for (const route of routes) {
    const warmup = route.method === "POST" ? { ...route, path: route.path + elsewhere } : route
    for (const server of [bare, hono, ours]) await drive(server, warmup, connections, 1)
  }
  log(
    `${connections} connections, ${rounds} rounds of ${seconds} s per route and server (autocannon); req/s and p99 ms are medians, ` +
      `ratios the median (and range) of each round's; load average ${loadavg().map((n) => n.toFixed(2)).join(" ")}`,
  )
  log("route                  bare            hono (×bare)                ours (×bare)                CPU µs/request: bare  hono  ours (bare/ours)")
  try {
    for (const route of routes) {
      const servers = { bare, hono, ours }
      const runs: Record<keyof typeof servers, Measured[]> = { bare: [], hono: [], ours: [] }
      for (let round = 0; round < rounds; round++) {
        const order = (["bare", "hono", "ours"] as const).map((_, i, all) => all[(i + round) % all.length]!)
        for (const name of order) runs[name].push(await drive(servers[name], route, connections, seconds))
      }
      const summary = (name: keyof typeof servers) => summarize(runs[name], runs.bare)
      const [b, h, o] = [summary("bare"), summary("hono"), summary("ours")]
      const cpu = (m: Summary) => (m.cpuPerRequest === undefined ? "   ?" : m.cpuPerRequest.toFixed(0).padStart(4))
      const cpuRatio = b.cpuPerRequest && o.cpuPerRequest ? ` (${(b.cpuPerRequest / o.cpuPerRequest).toFixed(2)}×)` : ""
      const cell = (m: Summary, ratio = true) =>
        `${m.rps.toFixed(0).padStart(6)}/s p99 ${String(m.p99).padStart(4)}` +
        (ratio ? ` (${m.ratio.toFixed(2)}×, ${m.low.toFixed(2)}–${m.high.toFixed(2)})` : "") +
        (m.failures ? ` ${m.failures} failed` : "")
      log(
        `${`${route.method} ${route.name === "get" ? "/session/:id" : route.path}`.padEnd(22)} ${cell(b, false)}   ${cell(h)}   ${cell(o)}   ${cpu(b)}  ${cpu(h)}  ${cpu(o)}${cpuRatio}`,
      )
    }
  } finally {
    for (const server of [ours, bare, hono]) await stopChild(server.child)
  }
}

const [mode, port, answersFile] = process.argv.slice(2)
if (mode === "--serve-bare") serveBare(JSON.parse(readFileSync(answersFile!, "utf8")), Number(port))
else if (mode === "--serve-hono") await serveHono(JSON.parse(readFileSync(answersFile!, "utf8")), Number(port))
else await main()
