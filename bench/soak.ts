/**
 * Bounded soak (issue 14, item 6), loopback only.
 *
 *   npx tsx bench/soak.ts [--minutes 10] [--sample-seconds 5]
 *
 * Starts the scripted model, the local server (`serve`), an edge (`wrangler dev`) and the agent
 * (`connect --local`, the tunnel process) paired with it, then runs four loops at once until the time is up:
 * - turns: a prompt at a time, plain and with a bash call, alternately on the local server and on the edge
 *   (whose model calls and bash go through the tunnel); each reply is checked;
 * - subscribers: an `/event` stream opens, a session is renamed, the stream must see that rename, and it
 *   closes again (local and edge in turn);
 * - terminals: a terminal opens, echoes a marker over its WebSocket, and is deleted (local and edge in turn);
 * - tunnel reconnects: every minute the agent is frozen (SIGSTOP) until the edge notices its silence (503),
 *   then thawed; it must reconnect on its own and serve again. Edge work pauses meanwhile.
 * Resident memory (VmRSS) of the local server and of the agent is sampled throughout. It prints each loop's
 * count, every error and every lost event, and the memory at the end of the first minute (warmed up) against
 * the end; it exits 1 when anything failed or was lost.
 */
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import WebSocket from "ws"
import { freePort, wranglerDev } from "../test/support/targets.ts"
import { agentBundle, type Child, log, pairAgent, sleep, startChild, tempDir, waitFor } from "./support.ts"
import {
  api,
  benchConfig,
  cleanEnv,
  EventStream,
  isolatedHome,
  makeProject,
  PROMPTS,
  startBenchModel,
  startLocal,
  stopServer,
  TOOL_ANSWER,
  waitHealthy,
  type Server,
} from "./turn-support.ts"

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    "sample-seconds": { type: "string", default: "5" },
  },
})
const DURATION_MS = Number(values.minutes) * 60_000
const SAMPLE_MS = Number(values["sample-seconds"]) * 1_000
const SILENCE_MS = 6_000
const RECONNECT_EVERY_MS = 60_000

const counts = { turns: 0, subscribers: 0, terminals: 0, reconnects: 0 }
const errors: string[] = []
let lost = 0
/** Set while the agent is frozen on purpose: edge work that needs the machine waits. */
let tunnelDown = false

function fail(what: string, detail: unknown) {
  errors.push(`${new Date().toISOString()} ${what}: ${detail instanceof Error ? detail.message : String(detail)}`.slice(0, 400))
}

/** Whether `server` is the edge while its machine is frozen on purpose: what fails there then is expected. */
function onFrozenMachine(server: Server): boolean {
  return server.name === "edge" && tunnelDown
}

/** Edge work that needs the machine waits while the agent is frozen. */
async function machineAway(server: Server): Promise<boolean> {
  if (!onFrozenMachine(server)) return false
  await sleep(500)
  return true
}

function residentKiB(pid: number | undefined): number {
  if (pid === undefined) return NaN
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)
    return match ? Number(match[1]) : NaN
  } catch {
    return NaN
  }
}

async function startEdge(): Promise<Server> {
  const port = await freePort()
  const wrangler = wranglerDev(port, await freePort(), tempDir("bench-soak-wrangler-"))
  // Under wrangler dev a client that left may show only by the heartbeats it leaves untaken (three): a 1 s
  // heartbeat frees churned streams' places within seconds (deployed, the disconnect is reported at once).
  wrangler.args.push("--var", `OPENCODE_TUNNEL_SILENCE_MS:${SILENCE_MS}`, "--var", "OPENCODE_HEARTBEAT_MS:1000")
  const child = startChild("wrangler", wrangler.command, wrangler.args, cleanEnv(wrangler.env))
  const edge: Server = { name: "edge", base: `http://127.0.0.1:${port}`, directory: "", headers: {}, runsTools: true, children: [child] }
  await waitHealthy(child, edge.base, 120_000)
  return edge
}

async function oneTurn(server: Server, sessionID: string, withTool: boolean, plainText: string) {
  const reply = await api(server, "POST", `/session/${sessionID}/message?directory=${encodeURIComponent(server.directory)}`, {
    parts: [{ type: "text", text: withTool ? PROMPTS.tool : PROMPTS.plain }],
  })
  if (reply.status !== 200) throw new Error(`${server.name} turn: ${reply.status} ${reply.text.slice(0, 200)}`)
  const text = (reply.json.parts as any[]).filter((part) => part.type === "text").map((part) => part.text).join("")
  const expected = withTool ? TOOL_ANSWER.join("") : plainText
  if (text !== expected || reply.json.info.finish !== "stop") throw new Error(`${server.name} turn answered ${JSON.stringify(text)} (${reply.json.info.finish})`)
}

async function newSession(server: Server, title: string): Promise<string> {
  const created = await api(server, "POST", `/session?directory=${encodeURIComponent(server.directory)}`, { title })
  if (created.status !== 200) throw new Error(`${server.name} POST /session: ${created.status} ${created.text.slice(0, 200)}`)
  return created.json.id
}

async function turnsLoop(servers: Server[], until: number, plainText: string) {
  const sessions = new Map<Server, { id: string; turns: number }>()
  for (let round = 0; Date.now() < until; round++) {
    const server = servers[round % servers.length]!
    if (await machineAway(server)) continue
    try {
      // a fresh session every 20 turns, so histories stay the size users have
      let session = sessions.get(server)
      if (!session || session.turns >= 20) sessions.set(server, (session = { id: await newSession(server, "soak turns"), turns: 0 }))
      await oneTurn(server, session.id, round % 3 === 0, plainText)
      session.turns++
      counts.turns++
    } catch (error) {
      if (!onFrozenMachine(server)) fail("turn", error)
    }
  }
}

async function subscribersLoop(servers: Server[], until: number) {
  const sessions = new Map<Server, string>()
  for (let round = 0; Date.now() < until; round++) {
    const server = servers[round % servers.length]!
    let stream: EventStream | undefined
    try {
      let id = sessions.get(server)
      if (!id) sessions.set(server, (id = await newSession(server, "soak subscribers")))
      stream = await EventStream.open(server)
      const title = `soak ${round}`
      const from = stream.frames.length
      const renamed = await api(server, "PATCH", `/session/${id}?directory=${encodeURIComponent(server.directory)}`, { title })
      if (renamed.status !== 200) throw new Error(`${server.name} PATCH: ${renamed.status} ${renamed.text.slice(0, 200)}`)
      const seen = await stream.waitFor((frame) => frame.type === "session.updated" && frame.properties?.info?.title === title, from, 15_000)
      if (!seen) {
        lost++
        fail("subscriber", `${server.name}: the rename to "${title}" never reached an open stream`)
      }
      counts.subscribers++
    } catch (error) {
      fail("subscriber", error)
    } finally {
      stream?.close()
    }
    await sleep(200)
  }
}

async function terminalOnce(server: Server, round: number) {
  const query = `?directory=${encodeURIComponent(server.directory)}`
  const created = await api(server, "POST", `/pty${query}`, { command: "bash", args: ["--noprofile", "--norc"] })
  if (created.status !== 200) throw new Error(`${server.name} POST /pty: ${created.status} ${created.text.slice(0, 200)}`)
  const id = created.json.id as string
  const socket = new WebSocket(`${server.base.replace(/^http/, "ws")}/pty/${id}/connect${query}&cursor=-1`, { headers: server.headers })
  try {
    let text = ""
    socket.on("message", (data, isBinary) => void (isBinary || (text += data.toString())))
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject))
    const marker = `soak-${round}-${40 + 2}`
    socket.send(`echo soak-${round}-$((40+2))\r`)
    const deadline = Date.now() + 15_000
    while (!text.includes(marker)) {
      if (Date.now() > deadline) throw new Error(`${server.name}: terminal never printed ${marker}`)
      await sleep(50)
    }
  } finally {
    socket.close()
    await api(server, "DELETE", `/pty/${id}${query}`)
  }
}

async function terminalsLoop(servers: Server[], until: number) {
  for (let round = 0; Date.now() < until; round++) {
    const server = servers[round % servers.length]!
    if (await machineAway(server)) continue
    try {
      await terminalOnce(server, round)
      counts.terminals++
    } catch (error) {
      if (!onFrozenMachine(server)) fail("terminal", error)
    }
    await sleep(300)
  }
}

/** Freezes the agent until the edge answers 503, thaws it, and waits until the edge reaches the machine again. */
async function reconnectsLoop(edge: Server, agent: Child, until: number) {
  const probe = () => api(edge, "GET", `/file/content?path=README.md&directory=${encodeURIComponent(edge.directory)}`, undefined, 10_000).catch(() => ({ status: 0 }))
  while (Date.now() + RECONNECT_EVERY_MS < until) {
    await sleep(RECONNECT_EVERY_MS)
    tunnelDown = true
    // let edge work in flight finish before the machine goes silent
    await sleep(2_000)
    process.kill(agent.proc.pid!, "SIGSTOP")
    try {
      const silentBy = Date.now() + SILENCE_MS * 5
      while ((await probe()).status !== 503) {
        if (Date.now() > silentBy) throw new Error("the edge never noticed the frozen agent")
        await sleep(500)
      }
    } catch (error) {
      fail("reconnect", error)
    } finally {
      process.kill(agent.proc.pid!, "SIGCONT")
    }
    const backBy = Date.now() + 60_000
    while ((await probe()).status !== 200) {
      if (Date.now() > backBy) {
        fail("reconnect", "the agent did not reconnect within 60 s")
        break
      }
      await sleep(500)
    }
    counts.reconnects++
    tunnelDown = false
  }
}

function mib(kib: number) {
  return (kib / 1024).toFixed(1)
}

async function main() {
  const model = await startBenchModel({ firstChunkDelayMs: 20, chunkDelayMs: 10 })
  const local = await startLocal(model)
  const edge = await startEdge()
  const agentState = tempDir("bench-soak-agent-")
  const env = cleanEnv({ ...isolatedHome("bench-soak-agent-home-"), OPENCODE_TUNNEL_PING_MS: "1000" })
  const token = await pairAgent(edge.base, agentState, env)
  edge.headers = { Authorization: `Bearer ${token}` }
  edge.directory = makeProject("bench-soak-edge-")
  const agent = startChild("agent", process.execPath, [await agentBundle(), "connect", "--local", local.base, "--state", agentState, "--log-level", "warn"], env)
  edge.children.unshift(agent)
  await waitFor(agent, "tunnel connected", () => agent.stdout.includes("tunnel connected"), 60_000)
  const configured = await api(edge, "PATCH", `/config?directory=${encodeURIComponent(edge.directory)}`, benchConfig(model))
  if (configured.status !== 200) throw new Error(`edge PATCH /config: ${configured.status} ${configured.text}`)

  const servers = [local, edge]
  const pids = { local: local.children[0]!.proc.pid, agent: agent.proc.pid }
  const samples: { at: number; local: number; agent: number }[] = []
  const started = Date.now()
  const until = started + DURATION_MS
  const sampler = setInterval(() => samples.push({ at: Date.now() - started, local: residentKiB(pids.local), agent: residentKiB(pids.agent) }), SAMPLE_MS)
  log(`soak: ${values.minutes} min, local server pid ${pids.local}, agent pid ${pids.agent}, edge ${edge.base}`)
  try {
    await Promise.all([
      turnsLoop(servers, until, model.plainText.join("")),
      subscribersLoop(servers, until),
      terminalsLoop(servers, until),
      reconnectsLoop(edge, agent, until),
    ])
  } finally {
    clearInterval(sampler)
    await stopServer(edge)
    await stopServer(local)
    await model.server.close()
  }

  const warm = samples.find((sample) => sample.at >= 60_000) ?? samples[0]
  const end = samples.at(-1)
  log(`ran ${((Date.now() - started) / 60_000).toFixed(1)} min: ${counts.turns} turns, ${counts.subscribers} subscribers, ${counts.terminals} terminals, ${counts.reconnects} tunnel reconnects`)
  for (const name of ["local", "agent"] as const) {
    if (!warm || !end) break
    const max = Math.max(...samples.map((sample) => sample[name]))
    const growth = end[name] - warm[name]
    log(
      `${name === "local" ? "local server" : "agent (tunnel)"} RSS: ${mib(warm[name])} MiB at ${(warm.at / 1000).toFixed(0)} s, ${mib(end[name])} MiB at the end ` +
        `(${growth >= 0 ? "+" : ""}${mib(growth)} MiB, ${((growth / warm[name]) * 100).toFixed(1)}%), max ${mib(max)} MiB`,
    )
  }
  // The minute-by-minute series tells a plateau (a store that grows with what it holds) from a steady climb.
  for (const name of ["local", "agent"] as const) {
    const perMinute = samples.filter((sample, index) => index === samples.length - 1 || Math.floor(sample.at / 60_000) !== Math.floor((samples[index + 1]?.at ?? 0) / 60_000))
    log(`  ${name} RSS at each minute's end (MiB): ${perMinute.map((sample) => mib(sample[name])).join(", ")}`)
  }
  log(`errors: ${errors.length}, lost events: ${lost}`)
  // grouped by what they say, numbers and times aside
  const kinds = new Map<string, number>()
  for (const error of errors) {
    const kind = error.replace(/^\S+ /, "").replace(/\d+/g, "N")
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
  }
  for (const [kind, count] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 20)) log(`  ${count}× ${kind}`)
  process.exitCode = errors.length > 0 || lost > 0 ? 1 : 0
}

await main()
