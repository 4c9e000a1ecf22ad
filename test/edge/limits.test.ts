import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, useTarget, type ApiResponse } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { SseStream } from "../support/sse.ts"
import { agentPair, pairClient, registeredTenant, TunnelProcess } from "../support/paired-edge.ts"
import { startTarget, targetKinds, type Target } from "../support/targets.ts"

const RPS = 20
const STREAMS = 2
const TURNS = 1
const TERMINALS = 1
const STORED_BYTES = 1_000_000

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

/** Asserts a limit's answer: its NamedError with the limit, and a `retry-after` of whole seconds where waiting helps. */
function expectLimit(response: ApiResponse, status: number, name: string, limit: number, retryAfter: boolean) {
  expectNamedError(response, status, name)
  expect(response.json.data.limit).toBe(limit)
  if (retryAfter) expect(response.headers.get("retry-after"), response.text).toMatch(/^[1-9]\d*$/)
  else expect(response.headers.get("retry-after")).toBeNull()
}

/** A paired-only edge with small limits; each test works in tenants of its own, so they do not share counts. */
describe.skipIf(!targetKinds().includes("worker"))("per-tenant limits on the edge", () => {
  const target = useTarget("worker", {
    pairedOnly: true,
    // Under wrangler dev the edge learns that an SSE client left at a later write, or by the heartbeats it
    // leaves untaken: short heartbeats make that soon.
    heartbeatMs: 500,
    vars: {
      OPENCODE_TENANT_RPS: String(RPS),
      OPENCODE_TENANT_STREAMS: String(STREAMS),
      OPENCODE_TENANT_TURNS: String(TURNS),
      OPENCODE_TENANT_TERMINALS: String(TERMINALS),
      OPENCODE_TENANT_STORED_BYTES: String(STORED_BYTES),
    },
  })

  /** A tenant with one client token, and its event streams. */
  async function tenant() {
    const registered = await registeredTenant(target())
    const stream = (path: string) => SseStream.open(`${target().url}${path}`, { headers: registered.headers })
    /** `/event`, once a place is free: refused with 429 until then. */
    const streamOnceFree = (what: string) =>
      until(
        async () => {
          const opened = await stream("/event")
          if (opened.status === 200) return opened
          expect(opened.status).toBe(429)
        },
        { intervalMs: 250, what },
      )
    return { ...registered, stream, streamOnceFree }
  }

  test("requests past the tenant's rate answer 429 RateLimitedError with retry-after; other tenants and later requests pass", async () => {
    const busy = await tenant()
    const other = await tenant()
    // One request first, so the burst finds the token already checked and arrives at the limit together.
    expect((await busy.as("GET", "/session")).status).toBe(200)
    const burst = await Promise.all(Array.from({ length: RPS * 5 }, () => busy.as("GET", "/session")))
    const limited = burst.filter((response) => response.status === 429)
    expect(limited.length).toBeGreaterThan(0)
    expect(burst.every((response) => response.status === 200 || response.status === 429)).toBe(true)
    expectLimit(limited[0]!, 429, "RateLimitedError", RPS, true)

    expect((await other.as("GET", "/session")).status).toBe(200)
    await until(async () => ((await busy.as("GET", "/session")).status === 200 ? true : undefined), { intervalMs: 250, what: "the rate to allow a request again" })
  })

  test("event streams past the limit answer 429 TooManyStreamsError; a closed stream frees its place", async () => {
    const owner = await tenant()
    const other = await tenant()
    const open = [await owner.stream("/event"), await owner.stream("/global/event")]
    try {
      expect(open.map((stream) => stream.status)).toEqual([200, 200])
      const refused = await owner.as("GET", "/event")
      expectLimit(refused, 429, "TooManyStreamsError", STREAMS, true)

      const elsewhere = await other.stream("/event")
      expect(elsewhere.status).toBe(200)
      elsewhere.close()

      open.shift()!.close()
      open.push(await owner.streamOnceFree("the closed stream's place to be free"))
    } finally {
      for (const stream of open) stream.close()
    }
  })

  test("streams whose clients went away free their places; a live stream keeps its place past the heartbeats", async () => {
    const owner = await tenant()
    const session = (await owner.as("POST", "/session", {})).json
    const gone = [await owner.stream("/event"), await owner.stream(`/session/${session.id}/event`)]
    expect(gone.map((stream) => stream.status)).toEqual([200, 200])
    await Promise.all(gone.map((stream) => stream.waitFor(() => true, { what: "server.connected" })))
    for (const stream of gone) stream.close()

    const live = await owner.streamOnceFree("the places of the streams whose clients went away")
    const open = [live]
    try {
      // More heartbeats than a client may leave untaken: one that takes them keeps its place.
      const heartbeats = () => live.frames.filter((frame) => frame.payload?.type === "server.heartbeat").length
      await live.waitFor(() => heartbeats() > 4, { what: "five heartbeats" })
      open.push(await owner.stream("/global/event"))
      expect(open[1]!.status).toBe(200)
      expectLimit(await owner.as("GET", "/event"), 429, "TooManyStreamsError", STREAMS, true)
      expect(live.ended).toBe(false)
    } finally {
      for (const stream of open) stream.close()
    }
  })

  describe("running turns", () => {
    let model: ModelServer
    beforeAll(async () => {
      model = await startModelServer()
    })
    afterAll(async () => {
      await model?.close()
    })

    test("a prompt to a second session while one runs answers 429 TooManyTurnsError; the place frees when the turn ends", async () => {
      const owner = await tenant()
      const other = await tenant()
      const config = fakeProviderConfig(model.baseURL)
      for (const who of [owner, other]) expect((await who.as("PATCH", "/config", config)).status).toBe(200)
      let finish!: () => void
      const held = new Promise<void>((resolve) => (finish = resolve))
      model.handle(async (request) => {
        if (request.kind !== "step") return undefined
        await held
        return "done"
      })

      const first = (await owner.as("POST", "/session", {})).json
      const second = (await owner.as("POST", "/session", {})).json
      const running = owner.as("POST", `/session/${first.id}/message`, { parts: [text("take your time")] })
      await model.waitForRequests(1)

      const refused = await owner.as("POST", `/session/${second.id}/prompt_async`, { parts: [text("me too")] })
      expectLimit(refused, 429, "TooManyTurnsError", TURNS, true)
      // Nothing of the refused prompt was stored.
      expect((await owner.as("GET", `/session/${second.id}/message`)).json).toEqual([])

      const elsewhere = (await other.as("POST", "/session", {})).json
      const accepted = await other.as("POST", `/session/${elsewhere.id}/prompt_async`, { parts: [text("another tenant")] })
      expect(accepted.status, accepted.text).toBe(204)

      finish()
      expect((await running).status).toBe(200)
      const after = await owner.as("POST", `/session/${second.id}/message`, { parts: [text("now")] })
      expect(after.status, after.text).toBe(200)
    })
  })

  test("past the stored-bytes quota, new sessions and messages answer 413 StorageLimitError; reading and deleting still work", async () => {
    const owner = await tenant()
    const other = await tenant()
    const session = (await owner.as("POST", "/session", {})).json
    const big = await owner.as("POST", `/session/${session.id}/message`, { parts: [text("x".repeat(STORED_BYTES))], noReply: true })
    expect(big.status).toBe(200)

    const refused = await until(
      async () => {
        const response = await owner.as("POST", "/session", {})
        if (response.status === 413) return response
        expect(response.status).toBe(200)
      },
      { intervalMs: 500, what: "the stored bytes to reach the quota" },
    )
    expectLimit(refused, 413, "StorageLimitError", STORED_BYTES, false)
    expectLimit(await owner.as("POST", `/session/${session.id}/message`, { parts: [text("more")], noReply: true }), 413, "StorageLimitError", STORED_BYTES, false)
    expect((await other.as("POST", "/session", {})).status).toBe(200)
    expect((await owner.as("GET", `/session/${session.id}`)).status).toBe(200)
    expect((await owner.as("DELETE", `/session/${session.id}`)).status).toBe(200)
  })

  describe("terminals, on a paired machine", () => {
    let machine: Target | undefined
    let tunnel: TunnelProcess | undefined
    let token: string
    const state = mkdtempSync(join(tmpdir(), "oc-limits-agent-"))
    beforeAll(async () => {
      machine = await startTarget("local")
      token = (await pairClient(target(), (await agentPair(target(), state)).code)).token
      tunnel = new TunnelProcess(state, machine.url)
      await tunnel.start()
    }, 120_000)
    afterAll(async () => {
      tunnel?.kill9()
      await machine?.stop()
      rmSync(state, { recursive: true, force: true })
    })

    test("a terminal past the limit answers 429 TooManyTerminalsError; removing one frees its place", async () => {
      // A directory the machine has (the edge's default is one only the edge knows).
      const as = (method: string, path: string, body?: unknown) =>
        api(target(), method, path, { noAuth: true, directory: tmpdir(), headers: bearer(token), ...(body !== undefined ? { body } : {}) })
      const shell = { command: "bash", args: ["--noprofile", "--norc"] }

      const first = await as("POST", "/pty", shell)
      expect(first.status, first.text).toBe(200)
      expectLimit(await as("POST", "/pty", shell), 429, "TooManyTerminalsError", TERMINALS, false)
      // The refused terminal was never started on the machine.
      expect((await as("GET", "/pty")).json.map((pty: { id: string }) => pty.id)).toEqual([first.json.id])

      expect((await as("DELETE", `/pty/${first.json.id}`)).status).toBe(200)
      const second = await as("POST", "/pty", shell)
      expect(second.status, second.text).toBe(200)
      await as("DELETE", `/pty/${second.json.id}`)
    })
  })
})
