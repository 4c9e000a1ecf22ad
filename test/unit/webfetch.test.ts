import { describe, expect, test } from "vitest"
import type { Ports } from "../../shared/ports.ts"
import { WebFetch, WebFetchError, WebFetchTimeoutError } from "../../shared/domain/webfetch.ts"
import { WEBFETCH_MAX_BYTES, parseToolArguments } from "../../shared/tools.ts"

/**
 * The webfetch tool against a stubbed `Ports.fetch`: what real servers rarely send in a conformance run (charsets,
 * no content type, a body of exactly the limit) and how the bounds hold. Over real HTTP on both runtimes:
 * test/conformance/webfetch.test.ts.
 */

/** `answer` gets the request and the signal the tool handed to fetch (the signal itself, not a Request's copy of it). */
function portsAnswering(answer: (request: Request, signal: AbortSignal | undefined) => Response | Promise<Response>): Ports {
  return {
    config: { version: "0.0.0-test" },
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => answer(new Request(input, init), init?.signal ?? undefined),
  } as unknown as Ports
}

const run = (ports: Ports, args: Record<string, unknown>, signal?: AbortSignal) =>
  WebFetch.run(ports, parseToolArguments("webfetch", { url: "https://example.com/x", ...args }), signal)

/** A body that sends `chunk` until cancelled, counting what it sent. */
function endless(chunk: Uint8Array) {
  const state = { sent: 0, cancelled: false }
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.sent += chunk.byteLength
      controller.enqueue(chunk)
    },
    cancel() {
      state.cancelled = true
    },
  })
  return { body, state }
}

describe("webfetch", () => {
  test("asks for the format it wants, as a named client", async () => {
    let seen: Request | undefined
    const ports = portsAnswering((request) => {
      seen = request
      return new Response("hi", { headers: { "content-type": "text/plain" } })
    })
    await run(ports, { format: "text" })
    expect(seen!.headers.get("accept")).toMatch(/^text\/plain;q=1.0/)
    expect(seen!.headers.get("user-agent")).toBe("opencode-edge-server/0.0.0-test")
  })

  test("decodes the charset the content type names; UTF-8 when none or an unknown one", async () => {
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]) // "café" in ISO-8859-1
    const answer = (contentType: string, bytes: Uint8Array) => portsAnswering(() => new Response(bytes, { headers: { "content-type": contentType } }))
    expect((await run(answer("text/plain; charset=ISO-8859-1", latin1), {})).output).toBe("café")
    const utf8 = new TextEncoder().encode("café")
    expect((await run(answer("text/plain", utf8), {})).output).toBe("café")
    expect((await run(answer('text/plain; charset="no-such-charset"', utf8), {})).output).toBe("café")
  })

  test("JSON, XML and other text types come back as they are, whatever the format; XHTML is converted", async () => {
    const json = '{"a": "<b>1</b>"}'
    const ports = portsAnswering(() => new Response(json, { headers: { "content-type": "application/vnd.api+json" } }))
    expect((await run(ports, { format: "markdown" })).output).toBe(json)
    const xhtml = portsAnswering(() => new Response("<html><body><h2>Hi</h2></body></html>", { headers: { "content-type": "application/xhtml+xml" } }))
    expect((await run(xhtml, {})).output).toBe("## Hi")
  })

  test("without a content type: text as it is, unless a NUL byte gives a binary file away", async () => {
    const ports = (bytes: Uint8Array) => portsAnswering(() => new Response(bytes))
    const text = await run(ports(new TextEncoder().encode("plain <b>words</b>")), {})
    expect(text.output).toBe("plain <b>words</b>")
    expect(text.title).toBe("https://example.com/x ()")
    await expect(run(ports(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01])), {})).rejects.toMatchObject({
      name: "WebFetchError",
      data: { message: expect.stringContaining("is binary") },
    })
  })

  test("a binary type is refused before its body is read", async () => {
    const { body, state } = endless(new Uint8Array(64 * 1024))
    const ports = portsAnswering(() => new Response(body, { headers: { "content-type": "image/png" } }))
    const error = await run(ports, {}).catch((caught) => caught)
    expect(error).toBeInstanceOf(WebFetchError)
    expect(error.data).toEqual({
      message: "https://example.com/x is image/png: webfetch returns only text and HTML",
      url: "https://example.com/x",
      responseStatus: 200,
      contentType: "image/png",
    })
    expect(state.sent).toBeLessThanOrEqual(2 * 64 * 1024)
  })

  test("a body of exactly 5 MB is whole; one byte more is cut, and the rest is cancelled unread", async () => {
    const exact = portsAnswering(() => new Response("a".repeat(WEBFETCH_MAX_BYTES), { headers: { "content-type": "text/plain" } }))
    const whole = await run(exact, {})
    expect(whole.output.length).toBe(WEBFETCH_MAX_BYTES)
    expect(whole.metadata.truncated).toBe(false)
    const { body, state } = endless(new TextEncoder().encode("b".repeat(1000)))
    const ports = portsAnswering(() => new Response(body, { headers: { "content-type": "text/plain" } }))
    const cut = await run(ports, {})
    expect(cut.output).toBe(`${"b".repeat(WEBFETCH_MAX_BYTES)}\n\n(Cut: only the first 5 MB of the response was read.)`)
    expect(cut.metadata).toEqual({ status: 200, contentType: "text/plain", url: "https://example.com/x", truncated: true })
    expect(state.cancelled).toBe(true)
    expect(state.sent).toBeLessThan(WEBFETCH_MAX_BYTES + 64 * 1000)
  })

  test("the timeout covers the body; a caller that goes away ends the call too", async () => {
    const stalling = portsAnswering(
      (_request, signal) =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode("partial"))
              signal!.addEventListener("abort", () => controller.error(signal!.reason))
            },
          }),
          { headers: { "content-type": "text/plain" } },
        ),
    )
    const timedOut = await run(stalling, { timeout: 0.2 }).catch((caught) => caught)
    expect(timedOut).toBeInstanceOf(WebFetchTimeoutError)
    expect(timedOut.data).toEqual({ message: "https://example.com/x did not answer within 0.2 s", url: "https://example.com/x", timeout: 0.2 })
    const caller = new AbortController()
    const call = run(stalling, {}, caller.signal).catch((caught) => caught)
    caller.abort()
    expect(await call).toBeInstanceOf(WebFetchError)
  })

  test("a network failure names its cause", async () => {
    const ports = portsAnswering(() => {
      throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") })
    })
    await expect(run(ports, {})).rejects.toMatchObject({
      name: "WebFetchError",
      data: { message: "Could not fetch https://example.com/x: fetch failed: connect ECONNREFUSED 127.0.0.1:9", url: "https://example.com/x" },
    })
  })
})
