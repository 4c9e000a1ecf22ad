/**
 * Agent turn bench: how much time a server adds to a model's own time, for our local agent, our Worker under
 * `wrangler dev` and upstream `opencode serve`, against the same scripted model, in one run.
 *
 *   npx tsx bench/turn.ts [--turns 10] [--warmup 2] [--targets local,worker,worker+machine,upstream]
 *                         [--first-chunk-ms 5] [--chunk-ms 2] [--no-git] [--profile <dir>]
 *
 * The model (test/support/model-server.ts, in this process, OpenAI Chat Completions, streamed): its first event
 * after --first-chunk-ms, then one every --chunk-ms; a plain answer is 4 text chunks; the tool case is one bash
 * call (`echo hi`), then 3 text chunks after the tool result. Replies are chosen from each request's content
 * (bench/turn-support.ts), so the title request a new session makes (no tools) is answered at once, apart, and
 * never takes a step's reply.
 *
 * Method, the same for every target:
 * - model (direct): a client here calls the model itself (fetch, streamed) as a server would: time to the first
 *   non-empty `delta.content` and to the stream's end; the tool case is the tool-call call then the answer's
 *   call with the tool result, back to back. Measured in the same rounds as the servers (below).
 * - each server: started (fresh state, fresh HOME, a git project folder), pointed at the model (PATCH /config for
 *   ours; OPENCODE_CONFIG_CONTENT for upstream, as ../shared/docs/agent-turn.md runs it), one `GET /event?directory=`
 *   held open. Per turn: a NEW session (POST /session, not timed), then t0, then `POST /session/:id/message`:
 *     first  = arrival of the first `message.part.delta` of that session on /event − t0
 *     end    = the POST's answer − t0           idle = arrival of its `session.idle` − t0
 *     →user  = arrival of the user message's message.updated − t0 (the prompt stored and published)
 *     →model = arrival of the turn's first step request at the model − t0 (what the server does before calling it)
 *   then a wait (≤ 3 s) for the generated title, so its write does not spill into the next turn.
 * - every target is started first and stays up; --warmup turns of each case on each (the first one is also
 *   reported as "first turn after start"); then a wait (≤ 60 s) until the servers together use < 15% of a core
 *   (upstream keeps a core busy for ~15-20 s after its first turns); then --turns rounds, interleaved: in each round the model (direct) and
 *   every target run one plain and one tool turn, one after another (never two at once), the order rotating by one
 *   each round, so load from elsewhere on the machine falls on all of them alike.
 * - overhead = server percentile − the model's same percentile (p50 with p50, p90 with p90), for first and end;
 *   ratio = our overhead / upstream's overhead. The issue's target: local ≤ 1/20 (≈ 20 ms), worker ≤ 1/5.
 * - targets: `local` (`node dist/agent.mjs serve`, as `npm start` runs it); `worker` (wrangler dev, OPENCODE_OPEN_TENANT=local, no
 *   machine: the Worker fetches the model itself and a bash call ends in a tool error, so its tool case runs no
 *   command); `worker+machine` (the same wrangler, a machine paired and connected: the loopback model and bash go
 *   through the tunnel, as on a deployed edge); `upstream` (node_modules/.bin/opencode serve). The targets not
 *   being measured sit idle meanwhile.
 * - `--profile <dir>`: the local target runs with `--cpu-prof --cpu-prof-dir <dir>/local` (written when it stops).
 */
import { mkdirSync } from "node:fs"
import { loadavg } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { log, removeTempDirs } from "./support.ts"
import {
  EventStream,
  modelDirect,
  runTurn,
  startBenchModel,
  startLocal,
  startUpstream,
  startWorker,
  stopServer,
  type BenchModel,
  type Case,
  type Server,
  type Timing,
  type TurnResult,
  waitQuiet,
} from "./turn-support.ts"

const { values } = parseArgs({
  options: {
    turns: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    targets: { type: "string", default: "local,worker,worker+machine,upstream" },
    "first-chunk-ms": { type: "string", default: "5" },
    "chunk-ms": { type: "string", default: "2" },
    "no-git": { type: "boolean", default: false },
    profile: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
})
if (values.help) {
  log("Usage: npx tsx bench/turn.ts [--turns 10] [--warmup 2] [--targets local,worker,worker+machine,upstream] [--first-chunk-ms 5] [--chunk-ms 2] [--no-git] [--profile dir]")
  process.exit(0)
}
const TURNS = Number(values.turns)
const WARMUP = Number(values.warmup)
const FIRST_CHUNK_MS = Number(values["first-chunk-ms"])
const CHUNK_MS = Number(values["chunk-ms"])
const GIT = !values["no-git"]
for (const [name, v, min] of [["--turns", TURNS, 1], ["--warmup", WARMUP, 1], ["--first-chunk-ms", FIRST_CHUNK_MS, 0], ["--chunk-ms", CHUNK_MS, 0]] as const) {
  if (!Number.isInteger(v) || v < min || v > 1000) throw new Error(`${name} must be a whole number from ${min} to 1000`)
}
const TARGETS = values.targets!.split(",").map((s) => s.trim()).filter(Boolean)
for (const name of TARGETS) if (!["local", "worker", "worker+machine", "upstream"].includes(name)) throw new Error(`unknown target: ${name}`)
const CASES: Case[] = ["plain", "tool"]

// ---------------------------------------------------------------------------------------------------------

interface Samples {
  first: number[]
  end: number[]
  idle: number[]
  toUser: number[]
  toModel: number[]
}

interface TargetResult {
  name: string
  note?: string
  error?: string
  cold: Partial<Record<Case, TurnResult>>
  samples: Record<Case, Samples>
  problems: string[]
}

const empty = (): Samples => ({ first: [], end: [], idle: [], toUser: [], toModel: [] })

function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

function fmt(n: number, digits = 1): string {
  return Number.isNaN(n) ? "-" : n.toFixed(digits)
}

async function warmModel(model: BenchModel) {
  for (let i = 0; i < 3; i++) for (const kind of CASES) await modelDirect(model, kind) // connections, JIT
}

interface Running {
  server: Server
  stream: EventStream
  result: TargetResult
}

function record(result: TargetResult, turn: TurnResult, kind: Case, into?: Samples) {
  if (turn.problem) result.problems.push(`${kind}: ${turn.problem}`)
  if (!into) return
  into.first.push(turn.first)
  into.end.push(turn.end)
  into.idle.push(turn.idle)
  into.toUser.push(turn.toUser)
  into.toModel.push(turn.modelRequests[0] ?? NaN)
}

async function main() {
  log(
    `agent turn bench: ${TURNS} turns per case after ${WARMUP} warm-up, model first event ${FIRST_CHUNK_MS} ms then every ${CHUNK_MS} ms, ` +
      `targets ${TARGETS.join(",")}, ${GIT ? "git" : "plain"} project folders; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  )
  const model = await startBenchModel({ firstChunkDelayMs: FIRST_CHUNK_MS, chunkDelayMs: CHUNK_MS })
  const direct: Record<Case, Timing[]> = { plain: [], tool: [] }
  await warmModel(model)

  const results: TargetResult[] = []
  const failed = (name: string, error: unknown): TargetResult => {
    const message = (error as Error)?.message ?? String(error)
    log(`[${name}] NOT RUN: ${message.split("\n").slice(0, 6).join("\n  ")}`)
    const result: TargetResult = { name, error: message.split("\n")[0], cold: {}, samples: { plain: empty(), tool: empty() }, problems: [] }
    results.push(result)
    return result
  }
  const servers: Server[] = []
  const owners: Server[] = [] // what to stop (worker+machine shares the worker's processes)
  try {
    // Start every target (one after another), each with its /event stream open.
    if (TARGETS.includes("local")) {
      log("[local] starting")
      try {
        const profile = values.profile ? join(resolve(values.profile), "local") : undefined
        if (profile) mkdirSync(profile, { recursive: true })
        const server = await startLocal(model, GIT, profile ? ["--cpu-prof", "--cpu-prof-dir", profile] : [])
        owners.push(server)
        servers.push(server)
      } catch (error) {
        failed("local", error)
      }
    }
    if (TARGETS.includes("worker") || TARGETS.includes("worker+machine")) {
      log("[worker] starting wrangler dev" + (TARGETS.includes("worker+machine") ? " and pairing a machine" : ""))
      try {
        const started = await startWorker(model, { withMachine: TARGETS.includes("worker+machine"), git: GIT })
        owners.push(started.worker)
        if (TARGETS.includes("worker")) servers.push(started.worker)
        if (TARGETS.includes("worker+machine")) {
          if (started.machine) servers.push(started.machine)
          else failed("worker+machine", new Error(started.error ?? "no machine"))
        }
      } catch (error) {
        for (const name of ["worker", "worker+machine"]) if (TARGETS.includes(name)) failed(name, error)
      }
    }
    if (TARGETS.includes("upstream")) {
      log("[upstream] starting opencode serve")
      try {
        const server = await startUpstream(model, GIT)
        owners.push(server)
        servers.push(server)
      } catch (error) {
        failed("upstream", new Error(`upstream could not be started: ${(error as Error).message}`))
      }
    }

    // Warm-up, server by server; the first turn of each case is kept as "first turn after start".
    const running: Running[] = []
    for (const server of servers) {
      log(`[${server.name}] up at ${server.base}${server.note ? ` (${server.note})` : ""}; ${WARMUP} warm-up turn(s) per case`)
      let stream: EventStream | undefined
      try {
        stream = await EventStream.open(server)
        const result: TargetResult = { name: server.name, note: server.note, cold: {}, samples: { plain: empty(), tool: empty() }, problems: [] }
        for (let i = 0; i < WARMUP; i++) {
          for (const kind of CASES) {
            const turn = await runTurn(server, stream, model, kind)
            if (i === 0) result.cold[kind] = turn
            record(result, turn, kind)
          }
        }
        results.push(result)
        running.push({ server, stream, result })
      } catch (error) {
        stream?.close()
        failed(server.name, error)
      }
    }

    // Upstream keeps a core busy for a while after its first turns: let every server settle first.
    const settled = await waitQuiet()
    log(`servers ${settled.quiet ? "quiet" : "NOT quiet"} after ${fmt(settled.waitedMs / 1000, 0)} s (${fmt(settled.cores * 100, 0)}% of a core over 2 s)`)

    // Measured rounds, interleaved: in each round every target (and the model called directly) runs one turn of
    // each case, starting one place further along each round, so background load falls on all of them alike.
    log(`measuring ${TURNS} rounds: ${["model", ...running.map((r) => r.server.name)].join(", ")} (rotating order)`)
    const rotation: (Running | "model")[] = ["model", ...running]
    const broken = new Set<Running>()
    for (let round = 0; round < TURNS; round++) {
      for (let k = 0; k < rotation.length; k++) {
        const entry = rotation[(round + k) % rotation.length]!
        if (entry === "model") {
          for (const kind of CASES) direct[kind].push(await modelDirect(model, kind))
          continue
        }
        if (broken.has(entry)) continue
        try {
          for (const kind of CASES) record(entry.result, await runTurn(entry.server, entry.stream, model, kind), kind, entry.result.samples[kind])
        } catch (error) {
          broken.add(entry)
          entry.result.problems.push(`stopped after an error: ${(error as Error).message.split("\n")[0]}`)
        }
      }
    }
    for (const entry of running) entry.stream.close()
  } finally {
    for (const server of owners.reverse()) await stopServer(server)
  }
  await model.server.close()
  if (values.profile) log(`CPU profile of the local target in ${join(resolve(values.profile), "local")}/`)
  removeTempDirs()
  const order = ["local", "worker", "worker+machine", "upstream"]
  report(direct, results.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name)))
}

function report(direct: Record<Case, Timing[]>, results: TargetResult[]) {
  const upstream = results.find((r) => r.name === "upstream" && !r.error)
  const header = ["case", "target", "n", "first p50", "p90", "end p50", "p90", "idle p50", "→user p50", "→model p50", "ovh first p50", "p90", "ovh end p50", "p90", "÷upstream first", "end"]
  const rows: string[][] = []
  const ratios: Record<string, Record<Case, { first: number; end: number }>> = {}
  for (const kind of CASES) {
    const m = {
      first50: percentile(direct[kind].map((t) => t.first), 0.5),
      first90: percentile(direct[kind].map((t) => t.first), 0.9),
      end50: percentile(direct[kind].map((t) => t.end), 0.5),
      end90: percentile(direct[kind].map((t) => t.end), 0.9),
    }
    rows.push([kind, "model (direct)", String(direct[kind].length), fmt(m.first50), fmt(m.first90), fmt(m.end50), fmt(m.end90), ...new Array<string>(9).fill("")])
    const overheadOf = (s: Samples) => ({
      first50: percentile(s.first, 0.5) - m.first50,
      first90: percentile(s.first, 0.9) - m.first90,
      end50: percentile(s.end, 0.5) - m.end50,
      end90: percentile(s.end, 0.9) - m.end90,
    })
    const up = upstream ? overheadOf(upstream.samples[kind]) : undefined
    for (const r of results) {
      if (r.error) {
        rows.push([kind, r.name, "not run", ...new Array<string>(13).fill("")])
        continue
      }
      const s = r.samples[kind]
      const o = overheadOf(s)
      const ratio = up && r !== upstream ? { first: o.first50 / up.first50, end: o.end50 / up.end50 } : undefined
      if (ratio) (ratios[r.name] ??= {} as Record<Case, { first: number; end: number }>)[kind] = ratio
      rows.push([
        kind,
        r.name + (kind === "tool" && r.name === "worker" ? " *" : ""),
        String(s.end.length),
        fmt(percentile(s.first, 0.5)),
        fmt(percentile(s.first, 0.9)),
        fmt(percentile(s.end, 0.5)),
        fmt(percentile(s.end, 0.9)),
        fmt(percentile(s.idle, 0.5)),
        fmt(percentile(s.toUser, 0.5)),
        fmt(percentile(s.toModel, 0.5)),
        fmt(o.first50),
        fmt(o.first90),
        fmt(o.end50),
        fmt(o.end90),
        ratio ? fmt(ratio.first, 3) : "",
        ratio ? fmt(ratio.end, 3) : "",
      ])
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  log("")
  log("times in ms from sending POST /session/:id/message; first = first message.part.delta on /event, end = the POST's answer,")
  log("idle = session.idle on /event, →user = the user message's message.updated on /event, →model = the first step request")
  log("reaching the model; ovh = server − model (same percentile); ÷upstream = our ovh p50 / upstream's ovh p50")
  log(line(header))
  log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) log(line(row))
  if (results.some((r) => r.name === "worker" && !r.error)) log("* worker without a machine: the bash call ends in a tool error (nothing runs it), then the model answers")

  log("")
  const cold = results.filter((r) => r.cold.plain)
  if (cold.length) {
    log(
      "first turn after start (warm-up, not in the table): " +
        cold.map((r) => `${r.name} plain first ${fmt(r.cold.plain!.first, 0)} end ${fmt(r.cold.plain!.end, 0)}, tool end ${fmt(r.cold.tool?.end ?? NaN, 0)}`).join("; "),
    )
  }
  for (const r of results) {
    if (r.error) log(`${r.name}: NOT RUN: ${r.error}`)
    else if (r.problems.length) log(`${r.name}: ${r.problems.length} turn(s) with problems, e.g. ${r.problems[0]}`)
  }
  if (!upstream) log("upstream not measured: no ratios; the overheads above are against the model's own times")
  log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores; other processes on the machine add noise)`)

  if (upstream) {
    const targets: Record<string, number> = { local: 1 / 20, worker: 1 / 5, "worker+machine": 1 / 5 }
    const parts: string[] = []
    const verdicts: string[] = []
    for (const [name, byCase] of Object.entries(ratios)) {
      parts.push(`${name} ${CASES.map((kind) => `${kind} ${fmt(byCase[kind]?.first ?? NaN, 3)}/${fmt(byCase[kind]?.end ?? NaN, 3)}`).join(" ")}`)
      const limit = targets[name]
      if (limit !== undefined) {
        const worst = Math.max(...CASES.flatMap((kind) => [byCase[kind]?.first ?? NaN, byCase[kind]?.end ?? NaN]))
        verdicts.push(`${name} ≤ 1/${Math.round(1 / limit)}: ${Number.isNaN(worst) ? "n/a" : worst <= limit ? "MET" : "NOT MET"}`)
      }
    }
    log(`ratios of overhead to upstream's (p50, first/end): ${parts.join("; ")} — ${verdicts.join(", ")}`)
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench/turn: ${(error as Error)?.stack ?? error}\n`)
    process.exit(1)
  },
)
