import { mkdir, writeFile } from "node:fs/promises"
import { request as httpRequest } from "node:http"
import { describe, expect, test } from "vitest"
import { declaredServerErrors, describeRequest, planFuzz, type FuzzRequest, type OpenApiDoc } from "../support/fuzz.ts"
import { api, sdk, text, useTarget } from "../support/http.ts"
import { oneSocketAgent } from "../support/keep-alive.ts"
import { REPO_ROOT, targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

const SEED = Number(process.env.FUZZ_SEED ?? 14)
// Enough for several variants of every operation; FUZZ_BUDGET=4000 (or another FUZZ_SEED) for a deeper run.
const BUDGET = Number(process.env.FUZZ_BUDGET ?? 800)

/** Streams, a WebSocket and long polls: they hold the request open by design. */
const STREAMING = new Set([
  "GET /event",
  "GET /global/event",
  "GET /session/{sessionID}/event",
  "GET /pty/{ptyID}/connect",
  "GET /tui/control/next",
  "POST /tui/control/request",
  // would drop every instance's state under the rest of the run
  "POST /global/dispose",
])

/** Operations whose accepted variants would run a model, a process, a tool or reach the network, or delete the fixture. */
const STARTS_WORK =
  /^POST \/session\/\{sessionID\}\/(message|prompt|prompt_async|command|shell|init|summarize|share)$|^DELETE |^POST \/pty$|^POST \/mcp|^POST \/tool\/|^POST \/machine\/|^POST \/provider\/|^POST \/session\/\{id\}\/permissions/

interface Answer {
  status: number
  text: string
  /** The request went out on a socket opened for it, not the one kept alive. */
  newSocket: boolean
}

/** All fuzz requests over one keep-alive socket, as `fetch` and the SDK reuse theirs. */
function oneSocketClient(target: Target) {
  const { agent, opened } = oneSocketAgent()
  const send = (request: FuzzRequest) =>
    new Promise<Answer>((resolve, reject) => {
      const before = opened()
      const outgoing = httpRequest(target.url + request.path, {
        method: request.method,
        agent,
        headers: {
          ...target.authHeaders,
          ...request.headers,
          // Node frames a body by its length unless the variant asks for chunks
          ...(request.body !== undefined && !request.headers["transfer-encoding"] ? { "content-length": String(Buffer.byteLength(request.body)) } : {}),
        },
        timeout: 30_000,
      })
      outgoing.on("timeout", () => outgoing.destroy(new Error("no answer within 30 s")))
      outgoing.on("response", (response) => {
        const chunks: Buffer[] = []
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString(), newSocket: opened() > before && before > 0 }),
        )
        response.on("error", reject)
      })
      outgoing.on("error", reject)
      outgoing.end(request.body)
    })
  return { send, opened, close: () => agent.destroy() }
}

/** What a rejected request must leave as it was: the fixture's sessions, messages and config. */
async function storedState(target: Target, directory: string, sessionID: string) {
  const reads = [
    `/session?directory=${encodeURIComponent(directory)}`,
    `/session/${sessionID}/message?directory=${encodeURIComponent(directory)}`,
    `/config?directory=${encodeURIComponent(directory)}`,
  ]
  const answers = await Promise.all(reads.map((path) => api(target, "GET", path)))
  return Object.fromEntries(reads.map((path, index) => [path.split("?")[0], answers[index]!.json]))
}

/** The reads whose answers differ, each with its first differing item before → after (cut short). */
function changes(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const cut = (value: unknown) => JSON.stringify(value)?.slice(0, 400)
  const firstDifference = (a: unknown, b: unknown) => {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${cut(a)} → ${cut(b)}`
    const index = Array.from({ length: Math.max(a.length, b.length) }, (_, i) => i).find((i) => JSON.stringify(a[i]) !== JSON.stringify(b[i]))
    return `[${index}] of ${a.length} → ${b.length}: ${cut(a[index!])} → ${cut(b[index!])}`
  }
  return Object.keys(after)
    .filter((read) => JSON.stringify(before[read]) !== JSON.stringify(after[read]))
    .map((read) => `${read} ${firstDifference(before[read], after[read])}`)
    .join("; ")
}

/** What no error body may carry: stack frames, source positions, the server's own folders. */
function leaks(target: Target, body: string): string[] {
  const found: string[] = []
  if (/\n\s+at |\bat [\w.<>]+ \(/.test(body)) found.push("a stack frame")
  if (/\.(ts|js|mjs):\d+/.test(body)) found.push("a source position")
  for (const internal of [REPO_ROOT, "node_modules", target.stateDir, "/work/"]) if (body.includes(internal)) found.push(`the path ${internal}`)
  return found
}

/** Problems with one answer: a server error it does not declare, a non-NamedError error body, a leak. */
function answerProblems(doc: OpenApiDoc, target: Target, request: FuzzRequest, answer: Answer): string[] {
  const problems: string[] = []
  if (answer.status >= 500 && !declaredServerErrors(doc, request.operation).has(answer.status)) problems.push(`answered ${answer.status}`)
  if (answer.status >= 400) {
    let body: any
    try {
      body = JSON.parse(answer.text)
    } catch {
      body = undefined
    }
    if (typeof body?.name !== "string" || typeof body?.data !== "object" || body.data === null) problems.push(`error body is not NamedError JSON`)
    for (const leak of leaks(target, answer.text)) problems.push(`error body shows ${leak}`)
  }
  return problems.map((problem) => `${problem}: ${answer.status} ${answer.text.slice(0, 300)}`)
}

describe.each(targetKinds())("fuzzing every route from /doc [%s]", (kind) => {
  const target = useTarget(kind)

  test(`malformed requests (seed ${SEED}, ${BUDGET} requests) are refused cleanly on one kept-alive socket and change nothing`, { timeout: Math.max(240_000, BUDGET * 100) }, async () => {
    const directory = uniqueDirectory("fuzz")
    await mkdir(directory, { recursive: true })
    await writeFile(`${directory}/readme.md`, "fuzz fixture\n")
    const client = sdk(target(), directory)
    const session = (await client.session.create({ body: { title: "fuzz fixture" } })).data!
    const prompt = await client.session.prompt({ path: { id: session.id }, body: { parts: [text("existing")], noReply: true } })
    const project = await api(target(), "GET", "/project/current", { directory })
    const doc = (await api(target(), "GET", "/doc")).json as OpenApiDoc
    const plan = planFuzz(doc, {
      seed: SEED,
      budget: BUDGET,
      fixture: {
        directory,
        ids: {
          sessionID: session.id,
          id: session.id,
          messageID: prompt.data!.info.id,
          partID: prompt.data!.parts[0]!.id,
          projectID: project.json.id,
        },
      },
      skip: (operation) => STREAMING.has(operation),
      rejectOnly: (operation) => STARTS_WORK.test(operation),
    })
    const operations = new Set(plan.map((request) => request.operation))
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    expect(documented.filter((operation) => !STREAMING.has(operation) && !operations.has(operation))).toEqual([])
    console.log(`fuzz [${kind}]: FUZZ_SEED=${SEED}, ${plan.length} requests over ${operations.size} operations`)

    const socket = oneSocketClient(target())
    const failures: string[] = []
    let state = await storedState(target(), directory, session.id)
    try {
      for (const request of plan) {
        const fail = (problem: string) => {
          failures.push(`${describeRequest(SEED, request)}\n    → ${problem}`)
          console.log(failures.at(-1))
        }
        let answer: Answer
        const started = Date.now()
        try {
          answer = await socket.send(request)
        } catch (error) {
          fail(`request failed: ${String(error)}`)
          continue
        }
        // diagnostics only: a slow answer is no failure, but it is what makes a run long
        if (Date.now() - started > 5_000) console.log(`slow (${Date.now() - started} ms): ${describeRequest(SEED, request)}`)
        if (answer.newSocket) fail("the server had closed the kept-alive socket after the request before this one")
        for (const problem of answerProblems(doc, target(), request, answer)) fail(problem)
        // reads change nothing, and a request sent to another directory cannot touch the fixture's
        if (request.method === "GET" || request.elsewhere) continue
        const after = await storedState(target(), directory, session.id)
        if (answer.status >= 400 && answer.status < 500 && JSON.stringify(after) !== JSON.stringify(state)) {
          fail(`a rejected request (${answer.status}) changed stored state: ${changes(state, after)}`)
        }
        state = after
      }
    } finally {
      socket.close()
    }
    expect(failures.slice(0, 40)).toEqual([])
    expect(socket.opened()).toBe(1)
  })
  // Found by the fuzzer: these made the pending revert final (dropping the reverted messages) before refusing.
  test("a prompt or summary refused after a revert keeps the reverted messages and the revert", async () => {
    const directory = uniqueDirectory("refused-after-revert")
    const client = sdk(target(), directory)
    const session = (await client.session.create({ body: {} })).data!
    const first = (await client.session.prompt({ path: { id: session.id }, body: { parts: [text("one")], noReply: true } })).data!
    const second = (await client.session.prompt({ path: { id: session.id }, body: { parts: [text("two")], noReply: true } })).data!
    const reverted = await api(target(), "POST", `/session/${session.id}/revert`, { directory, body: { messageID: second.info.id } })
    expect(reverted.status, reverted.text).toBe(200)
    const stored = async () => ({
      messages: (await api(target(), "GET", `/session/${session.id}/message`, { directory })).json.map((entry: any) => entry.info.id),
      revert: (await api(target(), "GET", `/session/${session.id}`, { directory })).json.revert,
    })
    const before = await stored()
    expect(before).toEqual({ messages: [first.info.id, second.info.id], revert: { messageID: second.info.id } })
    const unknownModel = { providerID: "no-such-provider", modelID: "no-such-model" }
    const refused: [string, string, unknown][] = [
      ["a message id already taken", "message", { parts: [text("three")], noReply: true, messageID: first.info.id }],
      ["an unknown agent", "message", { parts: [text("three")], noReply: true, agent: "no-such-agent" }],
      ["an unknown model", "message", { parts: [text("three")], model: unknownModel }],
      ["a summary with an unknown model", "summarize", unknownModel],
    ]
    for (const [what, route, body] of refused) {
      const response = await api(target(), "POST", `/session/${session.id}/${route}`, { directory, body })
      expect({ what, status: response.status >= 400 && response.status < 500 }, response.text).toEqual({ what, status: true })
      expect({ what, ...(await stored()) }).toEqual({ what, ...before })
    }
  })
})
