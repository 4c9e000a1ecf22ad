import { describe, expect, test } from "vitest"
import { api, expectNamedError, sdk, useTarget } from "../support/http.ts"
import { connect } from "../support/sse.ts"
import { basicAuthHeader, targetKinds } from "../support/targets.ts"

const PASSWORD = "correct horse battery"

describe.each(targetKinds())("Basic auth on [%s]", (kind) => {
  const target = useTarget(kind, { password: PASSWORD })

  test("no credentials: 401 with WWW-Authenticate, on every route", async () => {
    for (const [method, path] of [
      ["GET", "/global/health"],
      ["GET", "/session"],
      ["POST", "/session"],
      ["GET", "/doc"],
      ["GET", "/event"],
      ["GET", "/no/such/route"],
    ] as const) {
      const response = await api(target(), method, path, { noAuth: true, ...(method === "POST" ? { body: {} } : {}) })
      expect({ path, status: response.status }).toEqual({ path, status: 401 })
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic/i)
    }
    // nothing was created by the refused POST
    const listed = await api(target(), "GET", "/session")
    expect(listed.status).toBe(200)
    expect(listed.json).toEqual([])
  })

  test("wrong credentials: 401", async () => {
    for (const authorization of [
      basicAuthHeader("opencode", "wrong password"),
      basicAuthHeader("someone", PASSWORD),
      basicAuthHeader("opencode", `${PASSWORD}x`),
      "Basic !!!not-base64!!!",
      "Basic",
      `Bearer ${PASSWORD}`,
    ]) {
      const response = await api(target(), "GET", "/session", { noAuth: true, headers: { Authorization: authorization } })
      expect({ authorization, status: response.status }).toEqual({ authorization, status: 401 })
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic/i)
    }
    const badToken = Buffer.from("opencode:nope").toString("base64")
    const response = await api(target(), "GET", `/session?auth_token=${encodeURIComponent(badToken)}`, { noAuth: true })
    expect(response.status).toBe(401)
  })

  test("right Basic credentials and ?auth_token pass", async () => {
    const headers = { Authorization: basicAuthHeader("opencode", PASSWORD) }
    const health = await api(target(), "GET", "/global/health", { noAuth: true, headers })
    expect(health.status).toBe(200)
    expect(health.json).toMatchObject({ healthy: true, version: expect.any(String) })

    const token = encodeURIComponent(Buffer.from(`opencode:${PASSWORD}`).toString("base64"))
    const viaToken = await api(target(), "GET", `/session?auth_token=${token}`, { noAuth: true })
    expect(viaToken.status, viaToken.text).toBe(200)

    // the SDK with an Authorization header works
    const created = await sdk(target()).session.create({ body: { title: "authorised" } })
    expect(created.response.status).toBe(200)

    // an EventSource-style client authenticates with the token
    const stream = await connect(`${target().url}/event?auth_token=${token}`)
    expect(stream.frames[0]!.payload?.type).toBe("server.connected")
    stream.close()
  })

  test("a CORS preflight passes without credentials", async () => {
    const response = await fetch(`${target().url}/session`, {
      method: "OPTIONS",
      headers: {
        Origin: "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
      },
    })
    await response.arrayBuffer()
    expect(response.status).toBeGreaterThanOrEqual(200)
    expect(response.status).toBeLessThan(300)
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:3000")
  })
})

describe.each(targetKinds())("Basic auth with a custom username [%s]", (kind) => {
  const target = useTarget(kind, { password: PASSWORD, username: "alice" })

  test("only that username passes", async () => {
    const right = await api(target(), "GET", "/session", { noAuth: true, headers: { Authorization: basicAuthHeader("alice", PASSWORD) } })
    expect(right.status).toBe(200)
    const wrong = await api(target(), "GET", "/session", {
      noAuth: true,
      headers: { Authorization: basicAuthHeader("opencode", PASSWORD) },
    })
    expect(wrong.status).toBe(401)
  })
})

describe.each(targetKinds())("Basic auth off [%s]", (kind) => {
  const target = useTarget(kind)

  test("every route answers without credentials", async () => {
    expect((await api(target(), "GET", "/global/health")).status).toBe(200)
    expect((await api(target(), "GET", "/session")).status).toBe(200)
    const created = await api(target(), "POST", "/session", { body: { title: "open" } })
    expect(created.status).toBe(200)
    // credentials that would be wrong are simply ignored
    const ignored = await api(target(), "GET", "/session", { headers: { Authorization: basicAuthHeader("x", "y") } })
    expect(ignored.status).toBe(200)
    expectNamedError(await api(target(), "GET", "/session/ses_000000000000missing000000"), 404, "NotFoundError")
  })
})
