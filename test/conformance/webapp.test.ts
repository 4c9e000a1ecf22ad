import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, useTarget } from "../support/http.ts"
import { AppOrigin } from "../support/app-origin.ts"
import { targetKinds } from "../support/targets.ts"

/**
 * The official web app, served by both runtimes from its origin (OPENCODE_APP_URL). Here the origin is upstream's
 * `opencode serve` from the opencode-ai devDependency, which serves the same app offline.
 */
const origin = await AppOrigin.create()
const appUrl = origin.url

// One origin for the file: each runtime's block starts it and stops it; its folders go when the file is done.
afterAll(() => origin.cleanUp())

const html = { Accept: "text/html,application/xhtml+xml" }

describe.each(targetKinds())("the web app [%s]", (kind) => {
  const target = useTarget(kind, kind === "local" ? { env: { OPENCODE_APP_URL: appUrl } } : { vars: { OPENCODE_APP_URL: appUrl } })
  beforeAll(() => origin.start(), 90_000)
  afterAll(() => origin.stop())

  test("the app's page, files and deep links come from the origin; the API is untouched; the cache outlives the origin", async () => {
    const upstream = await fetch(`${appUrl}/`)
    const page = await api(target(), "GET", "/", { headers: html })
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(page.text).toBe(await upstream.text())
    // the policy, with the page's inline script hashed, is upstream's own
    expect(page.headers.get("content-security-policy")).toBe(upstream.headers.get("content-security-policy"))

    const script = page.text.match(/src="(\/assets\/[^"]+\.js)"/)?.[1]
    expect(script, page.text).toBeDefined()
    const asset = await api(target(), "GET", script!)
    expect(asset.status).toBe(200)
    expect(asset.headers.get("content-type")).toMatch(/javascript/)
    expect(asset.headers.get("cache-control")).toContain("immutable")
    expect(asset.text).toBe(await (await fetch(`${appUrl}${script}`)).text())
    expect((await api(target(), "GET", "/site.webmanifest")).status).toBe(200)

    // a deep link a browser opens is the app's page; API routes and API clients are not
    const deep = await api(target(), "GET", `/${Buffer.from("/tmp/project").toString("base64url")}/session/ses_abc`, { headers: html })
    expect(deep.status).toBe(200)
    expect(deep.text).toBe(page.text)
    expect(Array.isArray((await api(target(), "GET", "/session", { headers: html })).json)).toBe(true)
    const unknown = await api(target(), "GET", "/no/such/route", { headers: { Accept: "application/json" } })
    expect(unknown.status).toBe(404)
    expect(unknown.json.name).toBe("NotFoundError")
    expect((await api(target(), "POST", "/no/such/route", { headers: html, body: {} })).status).toBe(404)

    // the origin goes away: what was fetched is still served; what never was gets a page that says what to do
    origin.stop()
    const again = await api(target(), "GET", "/", { headers: html })
    expect(again.status).toBe(200)
    expect(again.text).toBe(page.text)
    expect((await api(target(), "GET", script!)).text).toBe(asset.text)
    const missing = await api(target(), "GET", "/never-fetched.png")
    expect(missing.status).toBe(503)
    expect(missing.headers.get("content-type")).toContain("text/html")
    expect(missing.text).toContain("could not be loaded")
    expect(missing.text).toContain(`opencode attach ${target().url}`)
  })
})
