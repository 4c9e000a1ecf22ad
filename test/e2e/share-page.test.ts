import { existsSync, mkdirSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, text, useTarget } from "../support/http.ts"
import { CHROMIUM, launchChromium, watchedPage } from "../support/browser.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { REPO_ROOT, targetKinds, uniqueDirectory } from "../support/targets.ts"

/**
 * A share link as a stranger opens it, in headless Chromium: the conversation is on the page, a reply the model
 * streams appears without a reload, unsharing is shown, and hostile content stays inert in the DOM.
 * Screenshots go to `test-output/share/`.
 */
const SHOTS = join(REPO_ROOT, "test-output", "share")

/** Every way content could try to run: each must show up as text and run nothing. */
const PAYLOADS = [
  "<script>window.__pwned = 'script'</script>",
  "<img src=x onerror=\"window.__pwned = 'img'\">",
  "[click me](javascript:window.__pwned='link')",
  "[data link](data:text/html,<script>window.__pwned='data'</script>)",
  '"><svg onload="window.__pwned = \'svg\'">',
]

describe.skipIf(!existsSync(CHROMIUM) || !targetKinds().includes("worker"))("a share page in Chromium", () => {
  const target = useTarget("worker")
  let browser: Browser
  let model: ModelServer
  /** A web page made of the payloads, for the webfetch tool to bring into the session as its output. */
  let hostileSite: Server
  let hostileURL: string

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    hostileSite = createServer((_request, response) => response.writeHead(200, { "Content-Type": "text/html" }).end(`<html><body>${PAYLOADS.join("")}</body></html>`))
    await new Promise<void>((resolve) => hostileSite.listen(0, "127.0.0.1", resolve))
    hostileURL = `http://127.0.0.1:${(hostileSite.address() as AddressInfo).port}/`
    model = await startModelServer()
    const configured = await api(target(), "PATCH", "/config", {
      body: {
        provider: { fake: fakeProviderConfig(model.baseURL).provider.fake },
        model: "fake/fake-1",
        small_model: "fake/fake-1",
        permission: { webfetch: "allow" },
      },
    })
    expect(configured.status, configured.text).toBe(200)
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await model?.close()
    hostileSite?.close()
  })

  test("shows the conversation, streams a new reply in live, and says so when unshared", async () => {
    const directory = uniqueDirectory("share-browser")
    const session = (await api(target(), "POST", "/session", { directory, body: { title: "Debugging the build" } })).json
    model.script({ text: ["Run `npm test` first.\n\n", "- it builds\n- it checks types"] })
    const first = await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("How do I run the tests?")] } })
    expect(first.status, first.text).toBe(200)
    const url = (await api(target(), "POST", `/session/${session.id}/share`, { directory })).json.share.url as string

    const { page, failures } = await watchedPage(browser, target().url)
    const dialogs: string[] = []
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    await page.goto(url)
    await expect.poll(() => page.locator("body").innerText()).toContain("How do I run the tests?")
    await expect.poll(() => page.locator("code", { hasText: "npm test" }).count()).toBeGreaterThan(0)
    expect(await page.locator("li", { hasText: "it checks types" }).count()).toBe(1)
    await page.screenshot({ path: join(SHOTS, "conversation.png"), fullPage: true })

    // A marker that a reload would wipe: the reply below must arrive without one.
    await page.evaluate("window.__sameDocument = true")
    model.script({ text: ["Streaming ", "into the page, ", "**live**."], chunkDelayMs: 150 })
    const reply = api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("Show me a live reply")] } })
    await expect.poll(() => page.locator("body").innerText(), { timeout: 30_000 }).toContain("Show me a live reply")
    await expect.poll(() => page.locator("strong", { hasText: "live" }).count(), { timeout: 30_000 }).toBe(1)
    expect((await reply).status).toBe(200)
    expect(await page.evaluate("window.__sameDocument")).toBe(true)
    await page.screenshot({ path: join(SHOTS, "live-reply.png"), fullPage: true })

    expect((await api(target(), "DELETE", `/session/${session.id}/share`, { directory })).status).toBe(200)
    await expect.poll(() => page.locator("body").innerText(), { timeout: 30_000 }).toContain("no longer shared")
    expect(await page.locator("body").innerText()).not.toContain("How do I run the tests?")
    await page.screenshot({ path: join(SHOTS, "unshared.png"), fullPage: true })
    expect(dialogs).toEqual([])
    expect(failures.filter((line) => !line.includes("/event"))).toEqual([])
    await page.close()
  })

  test("hostile content in every field stays text: nothing runs, no script, handler or javascript: link reaches the DOM", async () => {
    const directory = uniqueDirectory("share-xss")
    const hostile = PAYLOADS.join("\n\n")
    const session = (await api(target(), "POST", "/session", { directory, body: { title: PAYLOADS[4] } })).json
    model.script({
      text: hostile,
      toolCalls: [{ name: "webfetch", input: { url: hostileURL, format: "html" } }],
    })
    model.script({ text: `Tool said:\n\n${hostile}` })
    await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text(hostile)] } })
    const url = (await api(target(), "POST", `/session/${session.id}/share`, { directory })).json.share.url as string

    const { page } = await watchedPage(browser, target().url)
    const dialogs: string[] = []
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    const blocked: string[] = []
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) blocked.push(message.text())
    })
    await page.goto(url)
    await expect.poll(() => page.locator("body").innerText()).toContain("Tool said:")
    // Open every collapsed section, so their contents are in the rendered, visible DOM too.
    await page.evaluate('document.querySelectorAll("details").forEach((details) => (details.open = true))')
    await page.screenshot({ path: join(SHOTS, "hostile-content.png"), fullPage: true })

    const dom = (await page.evaluate(`({
      pwned: window.__pwned ?? null,
      scripts: document.querySelectorAll("script").length,
      handlers: [...document.querySelectorAll("*")].flatMap((element) => [...element.attributes].filter((attribute) => attribute.name.startsWith("on")).map((attribute) => attribute.name)),
      links: [...document.querySelectorAll("a[href]")].map((link) => link.getAttribute("href")),
      embedded: document.querySelectorAll("main img, main svg, main iframe, main object, main embed, main form").length,
    })`)) as { pwned: string | null; scripts: number; handlers: string[]; links: string[]; embedded: number }
    expect(dom.pwned).toBeNull()
    expect(dom.scripts).toBe(1)
    expect(dom.handlers).toEqual([])
    for (const href of dom.links) expect(href).toMatch(/^(https?:|mailto:)/i)
    expect(dom.embedded).toBe(0)
    expect(dialogs).toEqual([])
    // The payloads are on the page, as text: in the messages and in the tool's output.
    const body = await page.locator("body").innerText()
    expect(body).toContain("<script>window.__pwned = 'script'</script>")
    expect(body).toContain(`<html><body>${PAYLOADS[0]}`)
    expect(await page.title()).toContain('"><svg onload=')
    await page.close()
  })

  test("readable with JavaScript off", async () => {
    const directory = uniqueDirectory("share-nojs")
    const session = (await api(target(), "POST", "/session", { directory, body: { title: "No script needed" } })).json
    model.script({ text: "A *plain* answer." })
    await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("Can you read this without JS?")] } })
    const url = (await api(target(), "POST", `/session/${session.id}/share`, { directory })).json.share.url as string
    const context = await browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    await page.goto(url)
    const body = await page.locator("body").innerText()
    expect(body).toContain("No script needed")
    expect(body).toContain("Can you read this without JS?")
    expect(await page.locator("em", { hasText: "plain" }).count()).toBe(1)
    await page.screenshot({ path: join(SHOTS, "no-javascript.png"), fullPage: true })
    await context.close()
  })
})
