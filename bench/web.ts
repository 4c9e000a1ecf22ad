/**
 * Web app bench: how long the official web app takes, in headless Chromium, from navigation to a rendered
 * session list and to a rendered session of 200 messages, served by our local agent and by upstream
 * `opencode serve` in the same run.
 *
 *   npx tsx bench/web.ts [--rounds 5] [--sessions 30] [--turns 100]
 *
 * Setup, the same on both servers: a fresh HOME and state, a git project folder, the scripted model (plain
 * replies, no pacing); `--sessions` sessions titled "Bench session N" made over HTTP, and one session with
 * `--turns` turns (a user and an assistant message each: 200 messages by default) run through the real agent
 * loop. Our agent serves the app from the upstream server (OPENCODE_APP_URL), as it would from app.opencode.ai,
 * so both pages are the same files.
 * Each round, for each server (the order alternating), in a new browser context (empty cache and storage):
 *   list    = page.goto(`/`) → the home screen shows the newest session's title (the app lists the sessions of the
 *             projects it knows: the context starts knowing the project, as after "Add project")
 *   session = page.goto(`/<base64url(dir)>/session/<id>`) → the last prompt of the 200-message session is visible
 * The report gives the median and min of each, and ours / upstream (target: ≤ 1 on both).
 */
import { existsSync } from "node:fs"
import { parseArgs } from "node:util"
import type { Browser } from "playwright-core"
import { CHROMIUM, launchChromium } from "../test/support/browser.ts"
import { log, removeTempDirs } from "./support.ts"
import { api, startBenchModel, startLocal, startUpstream, stopServer, waitQuiet, type Server } from "./turn-support.ts"

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    sessions: { type: "string", default: "30" },
    turns: { type: "string", default: "100" },
  },
})
const ROUNDS = Math.max(1, Number(values.rounds) || 5)
const SESSIONS = Math.max(1, Number(values.sessions) || 30)
const TURNS = Math.max(1, Number(values.turns) || 100)
const SIDES = ["upstream", "ours"] as const
type Side = (typeof SIDES)[number]
type Measure = "list" | "session"

const prompt = (n: number) => `Bench prompt ${n}.`
const projectPath = (server: Server) => `/${Buffer.from(server.directory).toString("base64url")}/session`

/** The sessions of the list and the long session; returns the long session's id. */
async function seed(server: Server): Promise<string> {
  const query = `?directory=${encodeURIComponent(server.directory)}`
  const long = await api(server, "POST", `/session${query}`, { title: "Bench long session" })
  if (long.status !== 200) throw new Error(`${server.name}: POST /session answered ${long.status}: ${long.text}`)
  for (let n = 1; n <= TURNS; n++) {
    const turn = await api(server, "POST", `/session/${long.json.id}/message${query}`, { parts: [{ type: "text", text: prompt(n) }] })
    if (turn.status !== 200) throw new Error(`${server.name}: turn ${n} answered ${turn.status}: ${turn.text.slice(0, 300)}`)
  }
  const messages = await api(server, "GET", `/session/${long.json.id}/message${query}`)
  if (messages.json?.length !== TURNS * 2) throw new Error(`${server.name}: ${messages.json?.length} messages stored, not ${TURNS * 2}`)
  // Made after the long session, so the newest list entry is the last of these.
  for (let n = 1; n <= SESSIONS; n++) {
    const made = await api(server, "POST", `/session${query}`, { title: `Bench session ${n}` })
    if (made.status !== 200) throw new Error(`${server.name}: POST /session answered ${made.status}`)
  }
  return long.json.id
}

/**
 * A fresh context whose app already knows the project, as after "Add project" (the app keeps its project list in
 * localStorage, per server; "local" is the server the page came from): its home screen lists that project's sessions.
 */
function contextWithProject(browser: Browser, server: Server) {
  const projects = { list: [], projects: { local: [{ worktree: server.directory, expanded: true }] }, lastProject: { local: server.directory }, recentlyClosed: {} }
  return browser.newContext({
    viewport: { width: 1280, height: 800 },
    storageState: { cookies: [], origins: [{ origin: server.base, localStorage: [{ name: "opencode.global.dat:server", value: JSON.stringify(projects) }] }] },
  })
}

/** ms from navigation to the text being visible, in a fresh context. */
async function timeTo(browser: Browser, server: Server, path: string, text: string): Promise<number> {
  const context = await contextWithProject(browser, server)
  try {
    const page = await context.newPage()
    const start = performance.now()
    await page.goto(`${server.base}${path}`, { waitUntil: "commit" })
    await page.getByText(text, { exact: true }).first().waitFor({ state: "visible", timeout: 60_000 })
    return performance.now() - start
  } finally {
    await context.close()
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`)
  const model = await startBenchModel({ firstChunkDelayMs: 0, chunkDelayMs: 0 })
  const servers: Partial<Record<Side, Server>> = {}
  let browser: Browser | undefined
  try {
    log("starting upstream opencode serve")
    servers.upstream = await startUpstream(model)
    log("starting our local agent (app from the upstream server)")
    servers.ours = await startLocal(model, true, [], { OPENCODE_APP_URL: servers.upstream.base })
    const longSession: Partial<Record<Side, string>> = {}
    for (const side of SIDES) {
      const started = performance.now()
      longSession[side] = await seed(servers[side]!)
      log(`[${side}] seeded ${SESSIONS + 1} sessions, ${TURNS * 2} messages in one, in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    }
    const quiet = await waitQuiet()
    log(`servers ${quiet.quiet ? "quiet" : "not quiet"} after ${(quiet.waitedMs / 1000).toFixed(0)} s`)
    browser = await launchChromium()

    const times: Record<Side, Record<Measure, number[]>> = { upstream: { list: [], session: [] }, ours: { list: [], session: [] } }
    const measureOnce = async (side: Side) => {
      const server = servers[side]!
      times[side].list.push(await timeTo(browser!, server, "/", `Bench session ${SESSIONS}`))
      times[side].session.push(await timeTo(browser!, server, `${projectPath(server)}/${longSession[side]}`, prompt(TURNS)))
    }
    // One warm-up round each (the browser's own first start, upstream's first page), not counted.
    for (const side of SIDES) await measureOnce(side)
    for (const side of SIDES) for (const measure of ["list", "session"] as const) times[side][measure] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 ? [...SIDES].reverse() : SIDES) await measureOnce(side)
    }

    log("")
    log(`web app in Chromium, ${ROUNDS} rounds, fresh browser context each time (ms: median, min)`)
    for (const measure of ["list", "session"] as const) {
      const label = measure === "list" ? `session list (${SESSIONS + 1} sessions)` : `session with ${TURNS * 2} messages`
      const up = median(times.upstream[measure])
      const ours = median(times.ours[measure])
      log(
        `  ${label.padEnd(28)} upstream ${up.toFixed(0)} (${Math.min(...times.upstream[measure]).toFixed(0)})   ours ${ours.toFixed(0)} (${Math.min(...times.ours[measure]).toFixed(0)})   ours/upstream ${(ours / up).toFixed(2)}${ours <= up ? "" : "  (target ≤ 1 not met)"}`,
      )
    }
  } finally {
    await browser?.close()
    for (const side of SIDES) await stopServer(servers[side])
    await model.server.close()
    removeTempDirs()
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench/web: ${(error as Error)?.stack ?? error}\n`)
    process.exit(1)
  },
)
