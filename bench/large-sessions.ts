/**
 * Large sessions (issue 14, item 5).
 *
 *   npx tsx bench/large-sessions.ts [--runtimes local,worker] [--sessions 10000] [--messages 5000] [--samples 60]
 *
 * On each runtime (the local server; the Worker under `wrangler dev`) it seeds, through the HTTP API with
 * concurrent requests, a directory with `--sessions` sessions and one session with `--messages` messages, and
 * beside them a directory with 10 sessions and a session with 10 messages. Each operation is timed on the large
 * and the small one alternately (same run, same process) and reported as p50/p99 with the ratio large/small:
 * listing a page of sessions, search (one match; most match), roots only, the v2 list, a session's latest page of messages and an older
 * page (before the middle message), and loading one session. Locally it also times the server's
 * start-up on that state against an empty one, and the log's replay and compaction against a log of the small set.
 */
import { copyFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { buildAgent } from "../local-agent/build.ts"
import { DurableLog } from "../local-agent/store/log.ts"
import { State, type Mutation } from "../local-agent/store/state.ts"
import { startTarget, uniqueDirectory, type Target, type TargetKind } from "../test/support/targets.ts"
import { log, tempDir } from "./support.ts"

const { values } = parseArgs({
  options: {
    runtimes: { type: "string", default: "local,worker" },
    sessions: { type: "string", default: "10000" },
    messages: { type: "string", default: "5000" },
    samples: { type: "string", default: "60" },
  },
})
const SESSIONS = Number(values.sessions)
const MESSAGES = Number(values.messages)
const SAMPLES = Number(values.samples)
const SMALL = 10
const CONCURRENCY = 24
const PAGE = 50

interface Fixture {
  directory: string
  sessionID: string
  /** The id of the session's middle message: an older page ends before it (a message id is a valid `before`). */
  olderCursor: string
}

async function request(target: Target, method: string, path: string, body?: unknown, attempt = 1): Promise<{ response: Response; text: string }> {
  // wrangler dev now and then restarts its workerd under load (a 503 that says so, or a closed socket); the
  // request is simply sent again.
  const again = () => request(target, method, path, body, attempt + 1)
  let response: Response
  try {
    response = await fetch(target.url + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (error) {
    if (attempt < 5) return again()
    throw error
  }
  const text = await response.text()
  if (response.status === 503 && text.includes("restarted mid-request") && attempt < 5) return again()
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`)
  return { response, text }
}

/** Runs `count` calls of `task`, `CONCURRENCY` at a time; resolves with their results in index order. */
async function inParallel<T>(count: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) {
        const index = next++
        results[index] = await task(index)
      }
    }),
  )
  return results
}

/** Seeds a directory of `sessions` sessions (one titled with a rare word, half of the rest children) and a session of `messages` messages. */
async function seed(target: Target, sessions: number, messages: number): Promise<Fixture & { rates: { sessions: number; messages: number } }> {
  const directory = uniqueDirectory("large")
  const q = `?directory=${encodeURIComponent(directory)}`
  const parent = JSON.parse((await request(target, "POST", `/session${q}`, { title: "parent" })).text).id as string
  let started = performance.now()
  await inParallel(sessions - 1, (index) =>
    request(target, "POST", `/session${q}`, {
      title: index === Math.floor(sessions / 2) ? "the needle" : `bench session ${index}`,
      ...(index % 2 === 0 ? { parentID: parent } : {}),
    }),
  )
  const sessionRate = (sessions - 1) / ((performance.now() - started) / 1000)
  const sessionID = JSON.parse((await request(target, "POST", `/session${q}`, { title: "long" })).text).id as string
  started = performance.now()
  const ids = await inParallel(messages, async (index) => {
    const { text } = await request(target, "POST", `/session/${sessionID}/message${q}`, { parts: [{ type: "text", text: `message ${index}` }], noReply: true })
    return JSON.parse(text).info.id as string
  })
  const messageRate = messages / ((performance.now() - started) / 1000)
  const sorted = ids.sort()
  return { directory, sessionID, olderCursor: sorted[Math.floor(sorted.length / 2)]!, rates: { sessions: sessionRate, messages: messageRate } }
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

interface Operation {
  name: string
  path: (fixture: Fixture) => string
}

const operations: Operation[] = [
  { name: `list ?limit=${PAGE}`, path: (f) => `/session?directory=${encodeURIComponent(f.directory)}&limit=${PAGE}` },
  { name: `list ?roots&limit=${PAGE}`, path: (f) => `/session?directory=${encodeURIComponent(f.directory)}&roots=true&limit=${PAGE}` },
  { name: "search (1 match)", path: (f) => `/session?directory=${encodeURIComponent(f.directory)}&search=NEEDLE&limit=${PAGE}` },
  // Nearly every title matches: the page is met early on the ordered walk rather than by sorting every match.
  { name: "search (most match)", path: (f) => `/session?directory=${encodeURIComponent(f.directory)}&search=BENCH&limit=${PAGE}` },
  { name: `v2 /api/session ?limit=${PAGE}`, path: (f) => `/api/session?directory=${encodeURIComponent(f.directory)}&limit=${PAGE}` },
  { name: "load GET /session/:id", path: (f) => `/session/${f.sessionID}?directory=${encodeURIComponent(f.directory)}` },
  { name: `messages ?limit=${PAGE}`, path: (f) => `/session/${f.sessionID}/message?directory=${encodeURIComponent(f.directory)}&limit=${PAGE}` },
  {
    name: `older page ?before&limit=${PAGE}`,
    path: (f) => `/session/${f.sessionID}/message?directory=${encodeURIComponent(f.directory)}&limit=${PAGE}&before=${encodeURIComponent(f.olderCursor)}`,
  },
]

async function time(target: Target, path: string) {
  const started = performance.now()
  await request(target, "GET", path)
  return performance.now() - started
}

async function measure(target: Target, large: Fixture, small: Fixture) {
  const fmt = (ms: number) => ms.toFixed(2).padStart(8)
  log(`  ${"operation".padEnd(34)}      small p50/p99 (ms)      large p50/p99 (ms)   ratio p50  p99`)
  for (const operation of operations) {
    const times = { large: [] as number[], small: [] as number[] }
    for (let index = 0; index < 3; index++) {
      await time(target, operation.path(small))
      await time(target, operation.path(large))
    }
    for (let index = 0; index < SAMPLES; index++) {
      times.small.push(await time(target, operation.path(small)))
      times.large.push(await time(target, operation.path(large)))
    }
    const [s, l] = [times.small.sort((a, b) => a - b), times.large.sort((a, b) => a - b)]
    const [s50, s99, l50, l99] = [percentile(s, 50), percentile(s, 99), percentile(l, 50), percentile(l, 99)]
    log(`  ${operation.name.padEnd(34)} ${fmt(s50)} ${fmt(s99)}        ${fmt(l50)} ${fmt(l99)}      ${(l50 / s50).toFixed(2).padStart(5)}× ${(l99 / s99).toFixed(2).padStart(5)}×`)
  }
}

async function timed(action: () => Promise<unknown>) {
  const started = performance.now()
  await action()
  return performance.now() - started
}

/** Replays a copy of `logPath` and compacts it, timing each. */
async function replayAndCompact(logPath: string) {
  const copy = join(tempDir("oc-bench-log-"), "state.log")
  copyFileSync(logPath, copy)
  const logged = statSync(copy).size
  const state = new State()
  let log!: DurableLog<Mutation>
  const replay = await timed(async () => {
    log = await DurableLog.open<Mutation>(copy, { apply: (mutation) => state.apply(mutation), snapshot: () => state.snapshot() })
  })
  const compact = await timed(() => log.compact())
  const bytes = statSync(copy).size
  await log.close()
  return { replay, compact, logged, bytes }
}

async function localState(target: Target, empty: Target) {
  const logPath = join(target.stateDir, "state.log")
  const large = await replayAndCompact(logPath)
  const restartLarge = await timed(() => target.restart())
  const restartEmpty = await timed(() => empty.restart())
  const small = await replayAndCompact(join(empty.stateDir, "state.log"))
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
  log(`  start-up (restart until healthy): ${restartLarge.toFixed(0)} ms with the large state vs ${restartEmpty.toFixed(0)} ms with the small one (${(restartLarge / restartEmpty).toFixed(2)}×)`)
  log(`  log replay: ${large.replay.toFixed(0)} ms (${mb(large.logged)}) vs ${small.replay.toFixed(1)} ms (${mb(small.logged)})`)
  log(`  log compaction: ${large.compact.toFixed(0)} ms (to ${mb(large.bytes)}) vs ${small.compact.toFixed(1)} ms (to ${mb(small.bytes)})`)
}

async function run(kind: TargetKind) {
  log(`\n== ${kind}: ${SESSIONS} sessions in one directory, ${MESSAGES} messages in one session; baseline ${SMALL} / ${SMALL}`)
  const target = await startTarget(kind)
  // Locally the small set lives on its own server, so that its start-up and log are the baseline for the large one's.
  const smallTarget = kind === "local" ? await startTarget(kind) : target
  try {
    const large = await seed(target, SESSIONS, MESSAGES)
    log(`  seeded at ${large.rates.sessions.toFixed(0)} sessions/s and ${large.rates.messages.toFixed(0)} messages/s (${CONCURRENCY} concurrent requests)`)
    const small = await seed(smallTarget, SMALL, SMALL)
    // Measured against one server: the small set is seeded on the large one too.
    await measure(target, large, kind === "local" ? await seed(target, SMALL, SMALL) : small)
    if (kind === "local") await localState(target, smallTarget)
  } finally {
    await target.stop()
    if (smallTarget !== target) await smallTarget.stop()
  }
}

// The local target runs the agent bundle `npm start` runs, built from the current source.
await buildAgent()
for (const kind of values.runtimes!.split(",") as TargetKind[]) await run(kind)
process.exit(0)
