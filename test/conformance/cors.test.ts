import { describe, expect, test } from "vitest"
import { useTarget } from "../support/http.ts"
import { targetKinds } from "../support/targets.ts"

const EXTRA = "https://extra.example.com"

const ALLOWED = [
  "http://localhost:3000",
  "http://localhost:4096",
  "http://127.0.0.1:5173",
  "tauri://localhost",
  "https://opencode.ai",
  "https://app.opencode.ai",
  "https://a.b.opencode.ai",
  EXTRA,
]

const REFUSED = [
  "http://localhost:3000.evil.com",
  "https://opencode.ai.evil.com",
  "https://evilopencode.ai",
  "http://app.opencode.ai",
  "https://app.opencode.ai:8443",
  "null",
  "http://localhost:3000/",
  "https://extra.example.com.evil.com",
  "http://extra.example.com",
  "http://example.com",
]

describe.each(targetKinds())("CORS [%s]", (kind) => {
  const target = useTarget(kind, { cors: [EXTRA] })

  async function simple(origin: string | undefined) {
    const response = await fetch(`${target().url}/global/health`, { headers: origin === undefined ? {} : { Origin: origin } })
    await response.arrayBuffer()
    return { status: response.status, allow: response.headers.get("access-control-allow-origin") }
  }

  async function preflight(origin: string) {
    const response = await fetch(`${target().url}/session`, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    })
    await response.arrayBuffer()
    return {
      status: response.status,
      allow: response.headers.get("access-control-allow-origin"),
      methods: response.headers.get("access-control-allow-methods") ?? "",
    }
  }

  test.each(ALLOWED)("allows %s", async (origin) => {
    expect(await simple(origin)).toEqual({ status: 200, allow: origin })
    const answer = await preflight(origin)
    expect(answer.status).toBeGreaterThanOrEqual(200)
    expect(answer.status).toBeLessThan(300)
    expect(answer.allow).toBe(origin)
    expect(answer.methods).toMatch(/POST/)
  })

  test.each(REFUSED)("refuses %s", async (origin) => {
    const answer = await simple(origin)
    expect(answer.allow).toBeNull()
    expect((await preflight(origin)).allow).toBeNull()
  })

  test("a request without Origin passes", async () => {
    expect(await simple(undefined)).toEqual({ status: 200, allow: null })
    const created = await fetch(`${target().url}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    })
    expect(created.status).toBe(200)
    expect(created.headers.get("access-control-allow-origin")).toBeNull()
    await created.arrayBuffer()
  })
})
