import { mkdtemp, readFile, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, useTarget, type ApiResponse } from "../support/http.ts"
import { SseStream } from "../support/sse.ts"
import { agentPair } from "../support/paired-edge.ts"
import { basicAuthHeader, targetKinds, uniqueDirectory } from "../support/targets.ts"

/** A paired-only edge: no open tenant, every API request needs a client token. */
describe.skipIf(!targetKinds().includes("worker"))("pairing and tenants on a paired-only edge", () => {
  const target = useTarget("worker", { pairedOnly: true })

  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    api(target(), "POST", path, { noAuth: true, headers, ...(body !== undefined ? { body } : {}) })
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
  const as = (token: string, method: string, path: string, body?: unknown) =>
    api(target(), method, path, { noAuth: true, headers: bearer(token), ...(body !== undefined ? { body } : {}) })

  async function register() {
    const response = await post("/edge/machine/register")
    expect(response.status, response.text).toBe(200)
    expect(response.headers.get("cache-control")).toBe("no-store")
    return response.json as { tenant: string; machineID: string; secret: string; pairingCode: string; pairURL: string }
  }

  async function pairWith(code: string) {
    const response = await post("/edge/pair", { code })
    expect(response.status, response.text).toBe(200)
    return response.json as { token: string; tokenID: string; tenant: string; machineID: string }
  }

  /** A tenant with one client token. */
  async function tenant() {
    const machine = await register()
    return { machine, ...(await pairWith(machine.pairingCode)) }
  }

  /** Polls until `probe` answers 401 (a revocation reaches every isolate within the documented cache bound). */
  async function untilUnauthorized(probe: () => Promise<ApiResponse>, what: string) {
    return until(async () => {
      const response = await probe()
      return response.status === 401 ? response : undefined
    }, { what, timeoutMs: 25_000, intervalMs: 250 })
  }

  test("without a token: API routes answer 401 NamedError; health, /doc and preflights pass", async () => {
    for (const [method, path] of [
      ["GET", "/session"],
      ["POST", "/session"],
      ["GET", "/pty"],
      ["GET", "/event"],
      ["GET", "/global/event"],
      ["GET", "/project"],
      ["GET", "/file?path=."],
    ] as const) {
      const response = await api(target(), method, path, { noAuth: true, ...(method === "POST" ? { body: {} } : {}) })
      expectNamedError(response, 401, "UnauthorizedError")
    }
    for (const authorization of ["Bearer nonsense", `Bearer ${"A".repeat(43)}`, basicAuthHeader("opencode", "x"), "Basic !!!"]) {
      const response = await api(target(), "GET", "/session", { noAuth: true, headers: { Authorization: authorization } })
      expectNamedError(response, 401, "UnauthorizedError")
    }
    expect((await api(target(), "GET", "/global/health", { noAuth: true })).status).toBe(200)
    const preflight = await api(target(), "OPTIONS", "/session", {
      noAuth: true,
      headers: { Origin: "http://localhost:3000", "Access-Control-Request-Method": "GET" },
    })
    expect(preflight.status).toBeLessThan(300)
  })

  test("register, pair with the code: the token works as Bearer, as a Basic password and as ?auth_token=", async () => {
    const machine = await register()
    expect(machine.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(machine.pairingCode).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/)
    expect(machine.pairURL).toBe(`${target().url}/edge/pair?code=${machine.pairingCode}`)

    // codes are case and separator insensitive
    const paired = await pairWith(machine.pairingCode.toLowerCase().replace("-", ""))
    expect(paired).toMatchObject({ tenant: machine.tenant, machineID: machine.machineID })
    expect(paired.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(paired.token).not.toBe(machine.secret)

    const created = await as(paired.token, "POST", "/session", { title: "mine" })
    expect(created.status, created.text).toBe(200)
    const viaBearer = await as(paired.token, "GET", "/session")
    expect(viaBearer.json.map((s: any) => s.id)).toEqual([created.json.id])
    const viaBasic = await api(target(), "GET", "/session", {
      noAuth: true,
      headers: { Authorization: basicAuthHeader("anyone", paired.token) },
    })
    expect(viaBasic.status, viaBasic.text).toBe(200)
    expect(viaBasic.json.map((s: any) => s.id)).toEqual([created.json.id])
    const query = encodeURIComponent(Buffer.from(`opencode:${paired.token}`).toString("base64"))
    const viaQuery = await api(target(), "GET", `/session?auth_token=${query}`, { noAuth: true })
    expect(viaQuery.status, viaQuery.text).toBe(200)
    expect(viaQuery.json.map((s: any) => s.id)).toEqual([created.json.id])

    // the machine secret is not a client token
    expectNamedError(await as(machine.secret, "GET", "/session"), 401, "UnauthorizedError")
  })

  test("a pairing code is single use; wrong codes never yield a token; bad bodies are 400", async () => {
    const machine = await register()
    await pairWith(machine.pairingCode)
    const again = await post("/edge/pair", { code: machine.pairingCode })
    expectNamedError(again, 401, "UnauthorizedError")
    expect(again.json.token).toBeUndefined()
    const wrong = await post("/edge/pair", { code: "ZZZZ-ZZZZ" })
    expect([401, 404]).toContain(wrong.status)
    expect(wrong.json.token).toBeUndefined()
    expectNamedError(await post("/edge/pair", { nope: 1 }), 400, "BadRequest")
    expectNamedError(await post("/edge/pair", undefined, { "Content-Type": "application/json" }), 400, "BadRequest")

    // the machine asks for another code with its secret; a wrong secret gets 401
    const next = await post("/edge/machine/pairing-code", undefined, bearer(machine.secret))
    expect(next.status, next.text).toBe(200)
    expect(next.json.pairingCode).not.toBe(machine.pairingCode)
    expect((await pairWith(next.json.pairingCode)).tenant).toBe(machine.tenant)
    expectNamedError(await post("/edge/machine/pairing-code", undefined, bearer("A".repeat(43))), 401, "UnauthorizedError")
    expectNamedError(await post("/edge/machine/pairing-code"), 401, "UnauthorizedError")
  })

  test("the pairing page: no-store, no code or token written into it", async () => {
    const page = await api(target(), "GET", "/edge/pair?code=WXYZ-2345%3Cscript%3E", { noAuth: true })
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toMatch(/text\/html/)
    expect(page.headers.get("cache-control")).toBe("no-store")
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/)
    expect(page.text).not.toContain("WXYZ-2345")
    expect(page.text).not.toContain("%3Cscript")
    expect(page.text).toContain('fetch("/edge/pair"')
  })

  test("a browser: the pair page's request gets an HttpOnly token cookie, which signs first-party requests only", async () => {
    const machine = await register()
    const paired = await post("/edge/pair", { code: machine.pairingCode }, { "Sec-Fetch-Site": "same-origin" })
    expect(paired.status, paired.text).toBe(200)
    // No machine has connected yet: the app opens at its start.
    expect(paired.json.app).toBe("/")
    const cookie = paired.headers.get("set-cookie") ?? ""
    expect(cookie).toMatch(new RegExp(`^opencode_edge_token=${paired.json.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=\\d+$`))
    // A client that is not a page of this origin gets no cookie.
    const other = await register()
    expect((await post("/edge/pair", { code: other.pairingCode })).headers.get("set-cookie")).toBeNull()

    const withCookie = (site?: string) =>
      api(target(), "GET", "/session", { noAuth: true, headers: { Cookie: cookie.split(";")[0]!, ...(site ? { "Sec-Fetch-Site": site } : {}) } })
    expect((await withCookie("same-origin")).status).toBe(200)
    expect((await withCookie("none")).status).toBe(200)
    expectNamedError(await withCookie("same-site"), 401, "UnauthorizedError")
    expectNamedError(await withCookie("cross-site"), 401, "UnauthorizedError")
    expectNamedError(await withCookie(), 401, "UnauthorizedError")
  })

  test("the web app: its files are public; its pages send an unpaired browser to pair and a revoked one to pair again", async () => {
    const page = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${target().url}${path}`, { redirect: "manual", headers: { Accept: "text/html", ...headers } })
    // A file of the app is the web app's to answer (here its origin is out of reach offline), never a 401.
    expect((await fetch(`${target().url}/favicon-v3.ico`)).status).not.toBe(401)
    const unpaired = await page("/")
    expect(unpaired.status).toBe(302)
    expect(unpaired.headers.get("location")).toBe(`${target().url}/edge/pair`)

    const { token, tokenID } = await tenant()
    const revoked = await post("/edge/token/revoke", { tokenID }, bearer(token))
    expect(revoked.status).toBe(200)
    for (const headers of [{ Cookie: `opencode_edge_token=${token}`, "Sec-Fetch-Site": "none" }, bearer(token)]) {
      const again = await page("/L3RtcA/session", headers)
      expect(again.status).toBe(302)
      expect(again.headers.get("location")).toBe(`${target().url}/edge/pair-again`)
    }
    const pairAgain = await api(target(), "GET", "/edge/pair-again", { noAuth: true })
    expect(pairAgain.status).toBe(200)
    expect(pairAgain.headers.get("content-security-policy")).toMatch(/default-src 'none'/)
    expect(pairAgain.headers.get("set-cookie")).toMatch(/^opencode_edge_token=; .*Max-Age=0/)
    expect(pairAgain.text).toContain(`npm run agent -- pair --edge ${target().url}`)
  })

  test("two tenants: sessions, ids and events do not cross", async () => {
    const a = await tenant()
    const b = await tenant()
    expect(a.tenant).not.toBe(b.tenant)
    const directory = uniqueDirectory("shared")
    const qs = `?directory=${encodeURIComponent(directory)}`

    const streamB = await SseStream.open(`${target().url}/event${qs}`, { headers: bearer(b.token) })
    expect(streamB.status).toBe(200)
    await streamB.waitFor(() => true, { what: "B's first frame" })
    const globalB = await SseStream.open(`${target().url}/global/event`, { headers: bearer(b.token) })
    expect(globalB.status).toBe(200)
    await globalB.waitFor(() => true, { what: "B's first /global/event frame" })
    try {
      const inA = (await as(a.token, "POST", `/session${qs}`, { title: "A's" })).json
      expect(inA.id).toMatch(/^ses_/)
      const prompt = await as(a.token, "POST", `/session/${inA.id}/message${qs}`, { parts: [text("secret")], noReply: true })
      expect(prompt.status, prompt.text).toBe(200)

      const listB = await as(b.token, "GET", `/session${qs}`)
      expect(listB.status).toBe(200)
      expect(listB.json).toEqual([])
      expectNamedError(await as(b.token, "GET", `/session/${inA.id}${qs}`), 404, "NotFoundError")
      expectNamedError(await as(b.token, "GET", `/session/${inA.id}/message${qs}`), 404, "NotFoundError")
      expectNamedError(await as(b.token, "DELETE", `/session/${inA.id}${qs}`), 404, "NotFoundError")
      expectNamedError(await as(b.token, "PATCH", `/session/${inA.id}${qs}`, { title: "taken" }), 404, "NotFoundError")
      const sessionStream = await SseStream.open(`${target().url}/session/${inA.id}/event`, { headers: bearer(b.token) })
      expect(sessionStream.status).toBe(404)

      // B's own session arrives on B's stream, and nothing of A's did
      const inB = (await as(b.token, "POST", `/session${qs}`, { title: "B's" })).json
      await streamB.waitForEvent("session.created", (p) => p.info.id === inB.id)
      expect(streamB.frames.map((f) => f.data).join("\n")).not.toContain(inA.id)
      await globalB.waitFor((frame) => frame.payload?.type === "session.created" && frame.payload.properties.info.id === inB.id)
      expect(globalB.frames.map((f) => f.data).join("\n")).not.toContain(inA.id)

      // A still sees its session, untouched
      const listA = await as(a.token, "GET", `/session${qs}`)
      expect(listA.json.map((s: any) => [s.id, s.title])).toEqual([[inA.id, "A's"]])
    } finally {
      streamB.close()
      globalB.close()
    }
  })

  test("a revoked token gets 401 (by the token itself or by its machine); others of the tenant keep working", async () => {
    const machine = await register()
    const first = await pairWith(machine.pairingCode)
    const second = await pairWith((await post("/edge/machine/pairing-code", undefined, bearer(machine.secret))).json.pairingCode)
    expect((await as(first.token, "GET", "/session")).status).toBe(200)
    expect((await as(second.token, "GET", "/session")).status).toBe(200)

    // another tenant's token cannot revoke it; nor can nonsense
    const other = await tenant()
    expectNamedError(await post("/edge/token/revoke", { tokenID: first.tokenID }, bearer(other.token)), 401, "UnauthorizedError")
    expectNamedError(await post("/edge/token/revoke", { tokenID: first.tokenID }, bearer(other.machine.secret)), 404, "NotFoundError")
    expectNamedError(await post("/edge/token/revoke", { tokenID: first.tokenID }), 401, "UnauthorizedError")
    expectNamedError(await post("/edge/token/revoke", {}, bearer(first.token)), 400, "BadRequest")

    const bySelf = await post("/edge/token/revoke", { tokenID: first.tokenID }, bearer(first.token))
    expect(bySelf.status, bySelf.text).toBe(200)
    expect(bySelf.json).toBe(true)
    expectNamedError(await untilUnauthorized(() => as(first.token, "GET", "/session"), "the revoked token to be refused"), 401, "UnauthorizedError")

    const third = await pairWith((await post("/edge/machine/pairing-code", undefined, bearer(machine.secret))).json.pairingCode)
    const byMachine = await post("/edge/token/revoke", { tokenID: third.tokenID }, bearer(machine.secret))
    expect(byMachine.status, byMachine.text).toBe(200)
    await untilUnauthorized(() => as(third.token, "GET", "/session"), "the token revoked by its machine to be refused")

    expect((await as(second.token, "GET", "/session")).status).toBe(200)
    expect((await as(other.token, "GET", "/session")).status).toBe(200)
  })

  test("a revoked machine: its tokens get 401, its secret and codes stop working", async () => {
    const machine = await register()
    const paired = await pairWith(machine.pairingCode)
    const pending = (await post("/edge/machine/pairing-code", undefined, bearer(machine.secret))).json.pairingCode
    expect((await as(paired.token, "GET", "/session")).status).toBe(200)

    const revoked = await post("/edge/machine/revoke", undefined, bearer(machine.secret))
    expect(revoked.status, revoked.text).toBe(200)
    expect(revoked.json).toBe(true)
    await untilUnauthorized(() => as(paired.token, "GET", "/session"), "the revoked machine's token to be refused")
    expectNamedError(await post("/edge/pair", { code: pending }), 401, "UnauthorizedError")
    expectNamedError(await post("/edge/machine/pairing-code", undefined, bearer(machine.secret)), 401, "UnauthorizedError")
    expectNamedError(await post("/edge/machine/revoke", undefined, bearer(machine.secret)), 401, "UnauthorizedError")
  })

  test("agent CLI: pair writes machine.json (0600) and prints a code that pairs; again, a new code", async () => {
    const state = await mkdtemp(join(tmpdir(), "oc-pair-state-"))
    try {
      const cli = async () => {
        const { code, link } = await agentPair(target(), state)
        expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/)
        expect(link).toBe(`${target().url}/edge/pair?code=${code}`)
        return code
      }
      const firstCode = await cli()
      const file = join(state, "machine.json")
      expect((await stat(file)).mode & 0o777).toBe(0o600)
      const saved = JSON.parse(await readFile(file, "utf8"))
      expect(saved).toEqual({ edge: target().url, tenant: expect.any(String), machineID: expect.any(String), secret: expect.any(String) })
      const paired = await pairWith(firstCode)
      expect(paired).toMatchObject({ tenant: saved.tenant, machineID: saved.machineID })
      expect((await as(paired.token, "GET", "/session")).status).toBe(200)

      // already registered with this edge: the same machine, a new code
      const secondCode = await cli()
      expect(secondCode).not.toBe(firstCode)
      expect(JSON.parse(await readFile(file, "utf8"))).toEqual(saved)
      expect((await pairWith(secondCode)).machineID).toBe(saved.machineID)
    } finally {
      await rm(state, { recursive: true, force: true })
    }
  }, 120_000)
})

describe.skipIf(!targetKinds().includes("worker"))("pairing rate limit", () => {
  const target = useTarget("worker", { pairedOnly: true })

  test("failed pairing attempts past the bound get 429, even with a good code; never a token", async () => {
    const registered = await api(target(), "POST", "/edge/machine/register", { noAuth: true })
    expect(registered.status).toBe(200)
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const response = await api(target(), "POST", "/edge/pair", { noAuth: true, body: { code: `WRNG-${String(i).padStart(4, "X")}` } })
      expect(response.json?.token).toBeUndefined()
      statuses.push(response.status)
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401))
    expectNamedError(await api(target(), "POST", "/edge/pair", { noAuth: true, body: { code: "WRNG-ZZZZ" } }), 429, "TooManyRequestsError")
    const good = await api(target(), "POST", "/edge/pair", { noAuth: true, body: { code: registered.json.pairingCode } })
    expectNamedError(good, 429, "TooManyRequestsError")
  })
})
