/**
 * Upstream `opencode serve` (opencode-ai 1.18.33) and our local agent, side by side, against the same scripted
 * model and the same prompts: what each one publishes and stores for a turn, and where they differ.
 *
 *   npx tsx bench/compare-upstream.ts [--no-git] [--settle-ms 1500] [--raw <file.json>]
 *
 * Both servers run at once (each with a fresh HOME and state, its own git project folder); turns run one server
 * at a time (upstream, then ours) so they never compete for the CPU. One warm-up turn on each first (upstream's
 * first turn also boots its plugins: `plugin.added` ×N etc.), not compared, then a wait (≤ 60 s) until both are
 * idle (upstream keeps a core busy for a while after its first turn). Then, for each case (a plain text turn;
 * a turn whose model calls bash `echo hi`, then answers), in a new session:
 * - the `/event?directory=` stream from POST /session until session.idle + the generated title + --settle-ms;
 * - `GET /session/:id/message` and `GET /session/:id` after that;
 * - the step requests the server sent the model.
 * The report:
 * (a) the sequence of the session's events, normalised (messages named user#1/asst#1…, ids and times dropped,
 *     runs of message.part.delta collapsed into one line with a count), aligned by longest common subsequence:
 *     `=` same, `<` only upstream, `>` only ours, `≠` a differing line at the same place; then the events without
 *     a session seen meanwhile (counts by type);
 * (b) the key paths of each stored message and part (user, assistant per finish, step-start, text, tool,
 *     step-finish) and of the session: keys only upstream has, keys only ours has, differing value types, and
 *     differing scalar values (ids, times, hashes and the project folder normalised);
 * (c) the key paths of each event type's properties, the same way;
 * (d) the step requests to the model: body keys, tools offered, roles of the messages.
 * It always exits 0: it is a report. `--raw <file>` also writes everything recorded as JSON.
 */
import { writeFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { log, removeTempDirs, sleep } from "./support.ts"
import {
  api,
  BENCH_TITLE,
  EventStream,
  runTurn,
  sessionOf,
  startBenchModel,
  startLocal,
  startUpstream,
  stopServer,
  type BenchModel,
  type Case,
  type Frame,
  type Server,
  type TurnResult,
  waitQuiet,
} from "./turn-support.ts"

const { values } = parseArgs({
  options: {
    "no-git": { type: "boolean", default: false },
    "settle-ms": { type: "string", default: "1500" },
    raw: { type: "string" },
  },
})
const GIT = !values["no-git"]
const SETTLE_MS = Math.min(30_000, Math.max(0, Number(values["settle-ms"]) || 0))
const CASES: Case[] = ["plain", "tool"]
const SIDES = ["upstream", "ours"] as const
type Side = (typeof SIDES)[number]

interface Recorded {
  turn: TurnResult
  events: Frame[]
  others: Frame[]
  messages: any[]
  session: any
  directory: string
}

// ---------------------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------------------

async function record(server: Server, stream: EventStream, model: BenchModel, kind: Case): Promise<Recorded> {
  const turn = await runTurn(server, stream, model, kind)
  await sleep(SETTLE_MS)
  const query = `?directory=${encodeURIComponent(server.directory)}`
  const messages = await api(server, "GET", `/session/${turn.sessionID}/message${query}`)
  const session = await api(server, "GET", `/session/${turn.sessionID}${query}`)
  const window = stream.frames.slice(turn.createdFrom)
  return {
    turn,
    events: window.filter((f) => sessionOf(f) === turn.sessionID),
    others: window.filter((f) => sessionOf(f) === undefined && f.type !== "server.heartbeat"),
    messages: Array.isArray(messages.json) ? messages.json : [],
    session: session.json,
    directory: server.directory,
  }
}

// ---------------------------------------------------------------------------------------------------------
// (a) event sequences
// ---------------------------------------------------------------------------------------------------------

/** Normalised lines for a session's events; consecutive deltas on the same part and field become one line. */
function traceLines(rec: Recorded): string[] {
  const names = new Map<string, string>()
  let users = 0
  let assistants = 0
  const nameOf = (id: string | undefined, role?: string) => {
    if (!id) return "?"
    let name = names.get(id)
    if (!name) {
      name = role === "user" ? `user#${++users}` : role === "assistant" ? `asst#${++assistants}` : `msg?${names.size + 1}`
      names.set(id, name)
    }
    return name
  }
  let session: any = rec.turn.created ?? {}
  const lines: string[] = []
  let lastDelta: { key: string; count: number; index: number } | undefined
  for (const frame of rec.events) {
    const p = frame.properties ?? {}
    let line: string
    if (frame.type === "message.part.delta") {
      const key = `${p.messageID}/${p.partID}/${p.field}`
      if (lastDelta && lastDelta.key === key && lastDelta.index === lines.length - 1) {
        lastDelta.count++
        lines[lastDelta.index] = `message.part.delta ${nameOf(p.messageID)} ${p.field} ×${lastDelta.count}`
        continue
      }
      line = `message.part.delta ${nameOf(p.messageID)} ${p.field} ×1`
      lines.push(line)
      lastDelta = { key, count: 1, index: lines.length - 1 }
      continue
    }
    switch (frame.type) {
      case "message.updated": {
        const info = p.info ?? {}
        line = `message.updated ${nameOf(info.id, info.role)}`
        if (info.finish) line += ` finish=${info.finish}`
        if (info.time?.completed) line += " completed"
        if (info.error) line += ` error=${info.error.name}`
        if (info.role === "user" && info.summary) line += " +summary"
        break
      }
      case "message.part.updated": {
        const part = p.part ?? {}
        line = `message.part.updated ${nameOf(part.messageID)} ${part.type}`
        if (part.type === "tool") line += ` ${part.tool} ${part.state?.status}`
        else if (part.type === "text" || part.type === "reasoning") line += part.time?.end ? " (end)" : part.text ? ` (${part.text.length} chars)` : ' ("")'
        else if (part.type === "step-finish") line += ` reason=${part.reason}`
        if ("delta" in p) line += " +delta"
        break
      }
      case "message.removed":
      case "message.part.removed":
        line = `${frame.type} ${nameOf(p.messageID)}`
        break
      case "session.status":
        line = `session.status ${p.status?.type}`
        break
      case "session.error":
        line = `session.error ${p.error?.name}`
        break
      case "session.diff":
        line = `session.diff [${Array.isArray(p.diff) ? p.diff.length : "?"}]`
        break
      case "session.created":
      case "session.updated": {
        const info = p.info ?? {}
        const changed = Object.keys({ ...session, ...info })
          .filter((key) => key !== "time" && JSON.stringify(session[key]) !== JSON.stringify(info[key]))
          .concat(Object.keys({ ...session.time, ...info.time }).filter((key) => key !== "updated" && session.time?.[key] !== info.time?.[key]).map((key) => `time.${key}`))
          .map((key) => (key === "title" && info.title === BENCH_TITLE ? "title=<generated>" : key))
        line = frame.type === "session.created" ? "session.created" : `session.updated${changed.length ? ` (${changed.sort().join(", ")})` : " (no change)"}`
        session = info
        break
      }
      default:
        line = frame.type
    }
    lines.push(line)
  }
  return lines
}

/** LCS alignment of two line lists: pairs [a, b] with undefined where a side has no line. */
function align(a: string[], b: string[]): [string | undefined, string | undefined][] {
  const n = a.length
  const m = b.length
  const table = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) table[i]![j] = a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!)
  const out: [string | undefined, string | undefined][] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push([a[i++], b[j++]])
    else if (j < m && (i >= n || table[i]![j + 1]! >= table[i + 1]![j]!)) out.push([undefined, b[j++]])
    else out.push([a[i++], undefined])
  }
  // Pair a run of upstream-only lines with the ours-only lines right after it (a changed line, not two).
  const merged: [string | undefined, string | undefined][] = []
  for (let k = 0; k < out.length; ) {
    if (out[k]![1] === undefined || out[k]![0] === undefined) {
      const left: string[] = []
      const right: string[] = []
      while (k < out.length && (out[k]![0] === undefined || out[k]![1] === undefined)) {
        if (out[k]![0] !== undefined) left.push(out[k]![0]!)
        else right.push(out[k]![1]!)
        k++
      }
      for (let x = 0; x < Math.max(left.length, right.length); x++) merged.push([left[x], right[x]])
    } else merged.push(out[k++]!)
  }
  return merged
}

function sideBySide(upstream: string[], ours: string[]): { text: string[]; differences: number } {
  const rows = align(upstream, ours)
  const width = Math.max(20, ...upstream.map((l) => l.length)) + 2
  const text = [`    ${"upstream".padEnd(width)}ours`]
  let differences = 0
  for (const [a, b] of rows) {
    const mark = a === b ? "=" : a === undefined ? ">" : b === undefined ? "<" : "≠"
    if (mark !== "=") differences++
    text.push(`  ${mark} ${(a ?? "").padEnd(width)}${a === b ? "" : (b ?? "")}`)
  }
  return { text, differences }
}

function countTypes(frames: Frame[]): string {
  const counts = new Map<string, number>()
  for (const f of frames) counts.set(f.type, (counts.get(f.type) ?? 0) + 1)
  return [...counts].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(", ") || "none"
}

// ---------------------------------------------------------------------------------------------------------
// (b), (c): keys
// ---------------------------------------------------------------------------------------------------------

/** Leaf paths with their value types; arrays as `path[]` (elements merged). */
function shape(value: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    out.set(path || "(root)", value.length ? "array" : "array (empty)")
    for (const item of value) shape(item, `${path}[]`, out)
  } else if (value !== null && typeof value === "object") {
    const keys = Object.keys(value)
    if (keys.length === 0) out.set(path || "(root)", "object (empty)")
    for (const key of keys) shape((value as any)[key], path ? `${path}.${key}` : key, out)
  } else {
    const type = value === null ? "null" : typeof value
    const known = out.get(path)
    out.set(path, known && known !== type ? `${known}|${type}` : type)
  }
  return out
}

/** Scalar leaves with normalised values, for comparing what both sides store at the same path. */
function leaves(value: unknown, directory: string, path = "", out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) value.forEach((item, i) => leaves(item, directory, `${path}[${i}]`, out))
  else if (value !== null && typeof value === "object") for (const [key, v] of Object.entries(value)) leaves(v, directory, path ? `${path}.${key}` : key, out)
  else out.set(path, normalise(value, path, directory))
  return out
}

function normalise(value: unknown, path: string, directory: string): string {
  if (path === "slug" || path.endsWith(".slug")) return "<slug>"
  if (typeof value === "string") {
    if (/^(ses|msg|prt|evt|call|toolu|per|que)_[A-Za-z0-9]+$/.test(value)) return "<id>"
    if (/^[0-9a-f]{40}$/.test(value)) return "<hash>"
    if (/^New session - \d{4}-/.test(value)) return "New session - <date>"
    let text = value.split(directory).join("<dir>").split(directory.replace(/^\//, "")).join("<dir>")
    text = text.replace(/\/tmp\/bench-turn-[A-Za-z0-9-]+/g, "<tmp>")
    return JSON.stringify(text.length > 70 ? `${text.slice(0, 67)}...` : text)
  }
  if (typeof value === "number" && /(^|\.)(time|created|updated|start|end|completed|initialized|compacting|archived)(\.|$)/.test(path) && value > 1e12) return "<time>"
  return JSON.stringify(value)
}

function keyReport(label: string, upstream: unknown[], ours: unknown[], directories: Record<Side, string>, out: string[]): number {
  if (upstream.length === 0 && ours.length === 0) return 0
  if (upstream.length === 0 || ours.length === 0) {
    out.push(`  ${label}: only ${upstream.length ? "upstream" : "ours"} has it (${upstream.length} vs ${ours.length})`)
    return 1
  }
  const a = new Map<string, string>()
  const b = new Map<string, string>()
  for (const item of upstream) shape(item, "", a)
  for (const item of ours) shape(item, "", b)
  const onlyA = [...a.keys()].filter((k) => !b.has(k))
  const onlyB = [...b.keys()].filter((k) => !a.has(k))
  const types = [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k)).map((k) => `${k} (upstream ${a.get(k)}, ours ${b.get(k)})`)
  // Values: the i-th item of each side, leaf by leaf, where both have the leaf.
  const values: string[] = []
  for (let i = 0; i < Math.min(upstream.length, ours.length); i++) {
    const la = leaves(upstream[i], directories.upstream)
    const lb = leaves(ours[i], directories.ours)
    for (const [path, va] of la) {
      const vb = lb.get(path)
      if (vb !== undefined && va !== vb) values.push(`${upstream.length > 1 ? `#${i + 1} ` : ""}${path}: upstream ${va}, ours ${vb}`)
    }
  }
  const lines: string[] = []
  if (onlyA.length) lines.push(`    only upstream: ${onlyA.join(", ")}`)
  if (onlyB.length) lines.push(`    only ours:     ${onlyB.join(", ")}`)
  if (types.length) lines.push(`    types differ:  ${types.join("; ")}`)
  if (values.length) lines.push(`    values differ: ${values.join("; ")}`)
  out.push(`  ${label} (${upstream.length} vs ${ours.length})${lines.length ? "" : ": same keys, types and values"}`)
  out.push(...lines)
  return onlyA.length + onlyB.length + types.length + values.length
}

function storedGroups(messages: any[]): Map<string, unknown[]> {
  const groups = new Map<string, unknown[]>()
  const add = (label: string, item: unknown) => groups.set(label, [...(groups.get(label) ?? []), item])
  for (const message of messages) {
    const info = message.info ?? {}
    const role = info.role === "assistant" ? `assistant info (finish=${info.finish ?? "none"})` : `${info.role} info`
    add(role, info)
    for (const part of message.parts ?? []) add(`${info.role} part ${part.type}${part.type === "tool" ? ` (${part.state?.status})` : ""}`, part)
  }
  return groups
}

function messageOutline(messages: any[]): string {
  return messages
    .map((m) => `[${m.info?.role}${m.info?.finish ? ` ${m.info.finish}` : ""}${m.info?.error ? ` error=${m.info.error.name}` : ""}: ${(m.parts ?? []).map((p: any) => p.type).join(" ")}]`)
    .join(" ")
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function main() {
  const out: string[] = []
  const model = await startBenchModel({ firstChunkDelayMs: 5, chunkDelayMs: 2 })
  const servers: Partial<Record<Side, Server>> = {}
  const streams: Partial<Record<Side, EventStream>> = {}
  const recorded: Record<Case, Partial<Record<Side, Recorded>>> = { plain: {}, tool: {} }
  const warmups: Partial<Record<Side, Recorded>> = {}
  try {
    log("starting upstream opencode serve and our local agent")
    const [upstream, ours] = await Promise.allSettled([startUpstream(model, GIT), startLocal(model, GIT)])
    if (upstream.status === "fulfilled") servers.upstream = upstream.value
    else log(`upstream could not be started: ${String(upstream.reason?.message ?? upstream.reason).split("\n").slice(0, 4).join(" | ")}`)
    if (ours.status === "fulfilled") servers.ours = ours.value
    else log(`our local agent could not be started: ${String(ours.reason?.message ?? ours.reason).split("\n").slice(0, 4).join(" | ")}`)
    if (!servers.upstream || !servers.ours) {
      log("nothing to compare")
      return
    }
    for (const side of SIDES) streams[side] = await EventStream.open(servers[side]!)
    for (const side of SIDES) {
      warmups[side] = await record(servers[side]!, streams[side]!, model, "plain")
      log(`[${side}] warm-up turn done`)
    }
    const settled = await waitQuiet()
    log(`servers ${settled.quiet ? "quiet" : "not quiet"} after ${(settled.waitedMs / 1000).toFixed(0)} s`)
    for (const kind of CASES) {
      for (const side of SIDES) {
        recorded[kind][side] = await record(servers[side]!, streams[side]!, model, kind)
        log(`[${side}] ${kind} turn recorded${recorded[kind][side]!.turn.problem ? ` (problem: ${recorded[kind][side]!.turn.problem})` : ""}`)
      }
    }
  } finally {
    for (const side of SIDES) streams[side]?.close()
    for (const side of SIDES) await stopServer(servers[side])
    await model.server.close()
    removeTempDirs()
  }

  const directories = { upstream: servers.upstream!.directory, ours: servers.ours!.directory }
  const totals: string[] = []
  out.push("", "=".repeat(100), "upstream opencode serve 1.18.33 vs our local agent: the same scripted model, the same prompts", "=".repeat(100))
  out.push("warm-up turn (not compared), events without a session: " + SIDES.map((side) => `${side}: ${countTypes(warmups[side]!.others)}`).join(" || "))

  for (const kind of CASES) {
    const up = recorded[kind].upstream!
    const ours = recorded[kind].ours!
    out.push("", `### ${kind === "plain" ? "plain turn" : "tool turn (bash `echo hi`, then an answer)"}`)
    for (const side of SIDES) {
      const r = recorded[kind][side]!
      out.push(`  ${side}: ${r.turn.problem ? `PROBLEM ${r.turn.problem}; ` : ""}${r.events.length} session events, answer ${r.turn.end.toFixed(0)} ms; messages ${messageOutline(r.messages)}`)
    }
    out.push("", `(a) ${kind}: the session's events, normalised (= same, < only upstream, > only ours, ≠ differ)`)
    const { text, differences } = sideBySide(traceLines(up), traceLines(ours))
    out.push(...text)
    out.push(`  ${differences} line(s) differ`)
    out.push(`  events without a session during the turn: upstream: ${countTypes(up.others)} || ours: ${countTypes(ours.others)}`)

    out.push("", `(b) ${kind}: stored messages and parts (GET /session/:id/message) and the session (GET /session/:id)`)
    const ga = storedGroups(up.messages)
    const gb = storedGroups(ours.messages)
    let keyDiffs = 0
    for (const label of new Set([...ga.keys(), ...gb.keys()])) keyDiffs += keyReport(label, ga.get(label) ?? [], gb.get(label) ?? [], directories, out)
    keyDiffs += keyReport("session", up.session ? [up.session] : [], ours.session ? [ours.session] : [], directories, out)

    out.push("", `(c) ${kind}: properties of each event type (all of the session's events of that type merged)`)
    const ea = new Map<string, unknown[]>()
    const eb = new Map<string, unknown[]>()
    for (const [events, map] of [[up.events, ea], [ours.events, eb]] as const) {
      for (const f of events) {
        const label = f.type === "message.part.updated" ? `message.part.updated (${f.properties?.part?.type})` : f.type === "message.updated" ? `message.updated (${f.properties?.info?.role})` : f.type
        map.set(label, [...(map.get(label) ?? []), f.properties])
      }
    }
    let eventDiffs = 0
    for (const label of new Set([...ea.keys(), ...eb.keys()])) {
      const a = ea.get(label) ?? []
      const b = eb.get(label) ?? []
      // Only keys and types here: values are in (a) and (b).
      const lines: string[] = []
      if (!a.length || !b.length) {
        lines.push(`  ${label}: only ${a.length ? "upstream" : "ours"} sends it`)
      } else {
        const sa = new Map<string, string>()
        const sb = new Map<string, string>()
        a.forEach((p) => shape(p, "", sa))
        b.forEach((p) => shape(p, "", sb))
        const onlyA = [...sa.keys()].filter((k) => !sb.has(k))
        const onlyB = [...sb.keys()].filter((k) => !sa.has(k))
        const types = [...sa.keys()].filter((k) => sb.has(k) && sa.get(k) !== sb.get(k)).map((k) => `${k} (upstream ${sa.get(k)}, ours ${sb.get(k)})`)
        if (onlyA.length || onlyB.length || types.length) lines.push(`  ${label}:`)
        if (onlyA.length) lines.push(`    only upstream: ${onlyA.join(", ")}`)
        if (onlyB.length) lines.push(`    only ours:     ${onlyB.join(", ")}`)
        if (types.length) lines.push(`    types differ:  ${types.join("; ")}`)
      }
      eventDiffs += lines.length ? 1 : 0
      out.push(...lines)
    }
    if (eventDiffs === 0) out.push("  every event type both send has the same property keys and types")

    out.push("", `(d) ${kind}: step requests to the model`)
    const sa = up.turn.steps
    const sb = ours.turn.steps
    out.push(`  count: upstream ${sa.length}, ours ${sb.length}`)
    for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
      const a = sa[i]?.body ?? {}
      const b = sb[i]?.body ?? {}
      const keysA = Object.keys(a).sort()
      const keysB = Object.keys(b).sort()
      const toolsA = (a.tools ?? []).map((t: any) => t.function?.name).sort()
      const toolsB = (b.tools ?? []).map((t: any) => t.function?.name).sort()
      const rolesA = (a.messages ?? []).map((m: any) => m.role).join(",")
      const rolesB = (b.messages ?? []).map((m: any) => m.role).join(",")
      const diff = (x: string[], y: string[]) => x.filter((k) => !y.includes(k))
      out.push(`  step ${i + 1}:`)
      out.push(`    body keys: only upstream [${diff(keysA, keysB).join(", ")}], only ours [${diff(keysB, keysA).join(", ")}]`)
      const differing = keysA.filter((k) => keysB.includes(k) && !["messages", "tools"].includes(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
      for (const key of differing) out.push(`    ${key}: upstream ${JSON.stringify(a[key])}, ours ${JSON.stringify(b[key])}`)
      if (!differing.length) out.push(`    other fields (${keysA.filter((k) => keysB.includes(k) && !["messages", "tools"].includes(k)).join(", ")}): equal`)
      out.push(`    tools: only upstream [${diff(toolsA, toolsB).join(", ")}], only ours [${diff(toolsB, toolsA).join(", ")}] (upstream ${toolsA.length}, ours ${toolsB.length})`)
      // The shared tools' parameters: property names and required ones.
      const params = (body: any, name: string) => (body.tools ?? []).find((t: any) => t.function?.name === name)?.function?.parameters ?? {}
      for (const name of toolsA.filter((t: string) => toolsB.includes(t))) {
        const pa = params(a, name)
        const pb = params(b, name)
        const propsA = Object.keys(pa.properties ?? {})
        const propsB = Object.keys(pb.properties ?? {})
        const reqA = [...(pa.required ?? [])].sort().join(",")
        const reqB = [...(pb.required ?? [])].sort().join(",")
        const notes: string[] = []
        if (diff(propsA, propsB).length) notes.push(`only upstream [${diff(propsA, propsB).join(", ")}]`)
        if (diff(propsB, propsA).length) notes.push(`only ours [${diff(propsB, propsA).join(", ")}]`)
        if (reqA !== reqB) notes.push(`required upstream [${reqA}], ours [${reqB}]`)
        if (notes.length && i === 0) out.push(`    tool ${name} parameters: ${notes.join("; ")}`)
      }
      const systemOf = (body: any) =>
        (body.messages ?? []).filter((m: any) => m.role === "system").map((m: any) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content))).join("\n")
      out.push(`    system prompt: upstream ${systemOf(a).length} chars, ours ${systemOf(b).length} chars`)
      out.push(`    message roles: upstream ${rolesA || "-"}${rolesA === rolesB ? " (same)" : ` | ours ${rolesB || "-"}`}`)
    }
    totals.push(`${kind}: ${differences} event line(s), ${keyDiffs} stored key/type/value difference(s), ${eventDiffs} event type(s) with differing properties`)
  }
  out.push("", `title requests seen by the model during the run: ${model.titles.length} (answered apart, "${BENCH_TITLE}")`)
  out.push(`summary: ${totals.join("; ")}`)
  for (const line of out) log(line)
  if (values.raw) {
    writeFileSync(values.raw, JSON.stringify({ warmups, recorded }, (key, value) => (key === "raw" ? undefined : value), 2))
    log(`raw recordings written to ${values.raw}`)
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench/compare-upstream: ${(error as Error)?.stack ?? error}\n`)
    process.exit(0)
  },
)
