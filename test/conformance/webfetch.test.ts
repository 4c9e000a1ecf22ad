import { createServer, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

/**
 * The webfetch tool on both runtimes, against a small web server on 127.0.0.1 in this process: an HTML page as
 * Markdown, text or HTML, plain text as it is, a 404, answers too slow in their headers or their body, a body
 * larger than the limit, an image, and URLs that are not http(s). It needs no session; given one, the permission
 * rules judge the URL.
 */

const PAGE = `<!doctype html>
<html><head><title>Notes</title><style>h1 { color: red }</style><script>track("visit")</script></head>
<body>
  <h1>Release notes</h1>
  <p>Read the <a href="/docs/install">install guide</a> first.</p>
  <ul><li>faster start</li><li>fewer bugs</li></ul>
  <pre><code class="language-sh">npm install
npm start</code></pre>
</body></html>`
const PAGE_MARKDOWN = (origin: string) =>
  `# Release notes\n\nRead the [install guide](${origin}/docs/install) first.\n\n- faster start\n- fewer bugs\n\n\`\`\`sh\nnpm install\nnpm start\n\`\`\``
const PAGE_TEXT = "Release notes\n\nRead the install guide first.\n\nfaster start\nfewer bugs\n\nnpm install\nnpm start"
const PLAIN = "# not converted\n<b>plain text stays as it is</b>\n"
const FIVE_MB = 5 * 1024 * 1024
/** The large answer stops by itself here, so a client that kept reading would see its end. */
const LARGE_BYTES = 3 * FIVE_MB

/** Open responses, ended when the server stops (the slow ones would otherwise hold it). */
const open = new Set<ServerResponse>()
let largeSent = 0

const server = createServer((request, response) => {
  open.add(response)
  response.on("close", () => open.delete(response))
  switch (request.url) {
    case "/page.html":
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE)
      return
    case "/plain.txt":
      response.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(PLAIN)
      return
    case "/image.png":
      response.writeHead(200, { "content-type": "image/png" }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
      return
    case "/slow":
      // Headers only after the caller's timeout: the answer never starts in time.
      setTimeout(() => response.writeHead(200, { "content-type": "text/plain" }).end("too late"), 10_000).unref()
      return
    case "/slow-body":
      // Headers at once, then the body stalls: the timeout must cover reading it too.
      response.writeHead(200, { "content-type": "text/plain" })
      response.write("the start, and then nothing")
      return
    case "/large": {
      response.writeHead(200, { "content-type": "text/plain" })
      largeSent = 0
      const chunk = Buffer.alloc(64 * 1024, "x")
      const pump = () => {
        while (largeSent < LARGE_BYTES && !response.destroyed) {
          largeSent += chunk.length
          if (!response.write(chunk)) return void response.once("drain", pump)
        }
        response.end()
      }
      pump()
      return
    }
    default:
      response.writeHead(404, { "content-type": "text/plain" }).end("no such page")
  }
})

let origin = ""
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const response of open) response.destroy()
  await new Promise((resolve) => server.close(resolve))
})

const directory = uniqueDirectory("webfetch")

describe.each(targetKinds())("webfetch [%s]", (kind) => {
  const target = useTarget(kind)
  const webfetch = (args: unknown, query = "") => api(target(), "POST", `/tool/webfetch/execute${query}`, { directory, body: args })

  test("GET /tool lists webfetch with the JSON Schema of its arguments", async () => {
    const tools = (await api(target(), "GET", "/tool")).json as { id: string; description: string; parameters: any }[]
    const tool = tools.find((candidate) => candidate.id === "webfetch")!
    expect(tool.description).toMatch(/Markdown/)
    expect(tool.parameters).toMatchObject({
      type: "object",
      required: ["url"],
      properties: {
        url: { type: "string", format: "uri", description: expect.any(String) },
        format: { type: "string", enum: ["text", "markdown", "html"], default: "markdown", description: expect.any(String) },
        timeout: { type: "number", exclusiveMinimum: 0, maximum: 120, description: expect.any(String) },
      },
    })
  })

  test("an HTML page comes back as Markdown by default, without a session; text and raw HTML on request", async () => {
    const url = `${origin}/page.html`
    const markdown = await webfetch({ url })
    expect(markdown.status, markdown.text).toBe(200)
    expect(markdown.json).toEqual({
      title: `${url} (text/html; charset=utf-8)`,
      output: PAGE_MARKDOWN(origin),
      metadata: { status: 200, contentType: "text/html; charset=utf-8", url, truncated: false },
    })
    const text = await webfetch({ url, format: "text" })
    expect(text.json.output).toBe(PAGE_TEXT)
    const html = await webfetch({ url, format: "html" })
    expect(html.json.output).toBe(PAGE)
  })

  test("plain text comes back as it is, in every format", async () => {
    for (const format of ["markdown", "text", "html"]) {
      const response = await webfetch({ url: `${origin}/plain.txt`, format })
      expect(response.status, response.text).toBe(200)
      expect(response.json.output).toBe(PLAIN)
    }
  })

  test("a 404 answers WebFetchError naming the status", async () => {
    const response = await webfetch({ url: `${origin}/missing` })
    expectNamedError(response, 502, "WebFetchError")
    expect(response.json.data).toEqual({
      message: `${origin}/missing answered 404 Not Found`,
      url: `${origin}/missing`,
      responseStatus: 404,
      contentType: "text/plain",
    })
  })

  test("an image answers WebFetchError naming its type", async () => {
    const response = await webfetch({ url: `${origin}/image.png` })
    expectNamedError(response, 502, "WebFetchError")
    expect(response.json.data.message).toBe(`${origin}/image.png is image/png: webfetch returns only text and HTML`)
  })

  test("no answer within the timeout answers WebFetchTimeoutError, whether the headers or the body are late", async () => {
    for (const path of ["/slow", "/slow-body"]) {
      const started = Date.now()
      const response = await webfetch({ url: `${origin}${path}`, timeout: 1 })
      expectNamedError(response, 504, "WebFetchTimeoutError")
      expect(response.json.data).toEqual({ message: `${origin}${path} did not answer within 1 s`, url: `${origin}${path}`, timeout: 1 })
      expect(Date.now() - started).toBeLessThan(8_000)
    }
  })

  test("a body past 5 MB is cut there, the output says so, and the rest is not downloaded", async () => {
    const response = await webfetch({ url: `${origin}/large` })
    expect(response.status, response.text.slice(0, 500)).toBe(200)
    expect(response.json.metadata).toEqual({ status: 200, contentType: "text/plain", url: `${origin}/large`, truncated: true })
    expect(response.json.output).toBe(`${"x".repeat(FIVE_MB)}\n\n(Cut: only the first 5 MB of the response was read.)`)
    // Socket buffers hold some of what was written; far from all of it was sent.
    expect(largeSent).toBeLessThan(LARGE_BYTES)
  })

  test("only http and https URLs: anything else answers 400 BadRequest naming the url", async () => {
    for (const url of ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)", "not a url"]) {
      const response = await webfetch({ url })
      expectNamedError(response, 400, "BadRequest")
      expect(response.json.data.issues, url).toEqual([{ path: ["url"], message: "Expected an http:// or https:// URL" }])
    }
    expectNamedError(await webfetch({ url: `${origin}/plain.txt`, timeout: 121 }), 400, "BadRequest")
    expectNamedError(await webfetch({ url: `${origin}/plain.txt`, format: "pdf" }), 400, "BadRequest")
  })

  test("for a session, the webfetch permission rules judge the URL", async () => {
    const created = await api(target(), "POST", "/session", {
      directory,
      body: { permission: [{ permission: "webfetch", pattern: `${origin}/private/*`, action: "deny" }] },
    })
    expect(created.status, created.text).toBe(200)
    const query = `?sessionID=${created.json.id}`
    const denied = await webfetch({ url: `${origin}/private/page.html` }, query)
    expectNamedError(denied, 403, "PermissionDeniedError")
    expect(denied.json.data).toMatchObject({ permission: "webfetch", pattern: `${origin}/private/page.html` })
    const allowed = await webfetch({ url: `${origin}/plain.txt` }, query)
    expect(allowed.status, allowed.text).toBe(200)
    expect(allowed.json.output).toBe(PLAIN)
  })
})
