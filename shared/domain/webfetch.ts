import { z } from "zod"
import type { Ports } from "../ports.ts"
import { NamedError, defineError } from "../error.ts"
import { Html } from "../html/convert.ts"
import { WEBFETCH_DEFAULT_TIMEOUT_S, WEBFETCH_MAX_BYTES, type ToolArgs, type ToolResult } from "../tools.ts"

/** The URL gave nothing the tool can return: no answer, a status other than 2xx (`responseStatus`), or a binary type. */
export const WebFetchError = defineError(
  "WebFetchError",
  z.object({
    message: z.string(),
    url: z.string(),
    responseStatus: z.number().int().optional(),
    contentType: z.string().optional(),
  }),
  502,
)

/** The whole answer did not arrive within the call's timeout (seconds). */
export const WebFetchTimeoutError = defineError(
  "WebFetchTimeoutError",
  z.object({ message: z.string(), url: z.string(), timeout: z.number() }),
  504,
)

/**
 * The `webfetch` tool: one GET through `Ports.fetch` (the runtime's own way out, so it runs alike on the local
 * agent and on the edge), bounded in time (the timeout covers the body too) and in size (the first 5 MB is kept,
 * the rest never downloaded). HTML becomes Markdown or text as asked; other text comes back as it is.
 */
export namespace WebFetch {
  type Args = ToolArgs<"webfetch">

  /** What each format prefers, so a server that can answer Markdown or text directly does (as upstream asks). */
  const ACCEPT: Record<Args["format"], string> = {
    markdown: "text/markdown;q=1.0, text/x-markdown;q=0.9, text/plain;q=0.8, text/html;q=0.7, */*;q=0.1",
    text: "text/plain;q=1.0, text/markdown;q=0.9, text/html;q=0.8, */*;q=0.1",
    html: "text/html;q=1.0, application/xhtml+xml;q=0.9, text/plain;q=0.8, text/markdown;q=0.7, */*;q=0.1",
  }

  const HTML = new Set(["text/html", "application/xhtml+xml"])
  /** Types whose bytes are text: text/*, JSON and XML of any kind, and the common script and config types. */
  const TEXT = /^text\/|[/+](?:json|xml)$|^application\/(?:javascript|x-javascript|ecmascript|yaml|x-yaml|toml|x-sh|sql|graphql|x-ndjson)$/

  /** Up to `limit` bytes of the body; `cut` when there was more, which is then cancelled unread. */
  async function readCapped(body: ReadableStream<Uint8Array> | null, limit: number): Promise<{ bytes: Uint8Array; cut: boolean }> {
    const chunks: Uint8Array[] = []
    let size = 0
    let cut = false
    if (body) {
      const reader = body.getReader()
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        const room = limit - size
        if (next.value.byteLength > room) {
          chunks.push(next.value.subarray(0, room))
          size = limit
          cut = true
          // Nobody reads the rest: a failure to cancel is no failure of the call.
          reader.cancel().catch(() => {})
          break
        }
        chunks.push(next.value)
        size += next.value.byteLength
      }
    }
    const bytes = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      bytes.set(chunk, offset)
      offset += chunk.byteLength
    }
    return { bytes, cut }
  }

  /** The bytes in the charset the content type names; UTF-8 when it names none, or one this runtime does not know. */
  function decode(bytes: Uint8Array, contentType: string): string {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]
    try {
      return new TextDecoder(charset ?? "utf-8").decode(bytes)
    } catch {
      return new TextDecoder().decode(bytes)
    }
  }

  function render(content: string, mime: string, format: Args["format"], pageUrl: string): string {
    if (!HTML.has(mime) || format === "html") return content
    return format === "markdown" ? Html.markdown(content, pageUrl) : Html.text(content)
  }

  async function get(ports: Ports, args: Args, signal: AbortSignal): Promise<ToolResult> {
    const response = await ports.fetch(args.url, {
      headers: { Accept: ACCEPT[args.format], "Accept-Language": "en-US,en;q=0.9", "User-Agent": `opencode-edge-server/${ports.config.version}` },
      redirect: "follow",
      signal,
    })
    const url = response.url || args.url
    const contentType = response.headers.get("content-type") ?? ""
    const mime = contentType.split(";")[0]!.trim().toLowerCase()
    if (!response.ok) {
      response.body?.cancel().catch(() => {})
      const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`
      throw new WebFetchError({ message: `${url} answered ${status}`, url, responseStatus: response.status, contentType })
    }
    const unreadable = (what: string) =>
      new WebFetchError({ message: `${url} is ${what}: webfetch returns only text and HTML`, url, responseStatus: response.status, contentType })
    if (mime && !TEXT.test(mime)) {
      response.body?.cancel().catch(() => {})
      throw unreadable(mime)
    }
    const { bytes, cut } = await readCapped(response.body, WEBFETCH_MAX_BYTES)
    // Without a declared type, a NUL byte near the start gives a binary file away.
    if (!mime && bytes.subarray(0, 8192).includes(0)) throw unreadable("binary")
    const output = render(decode(bytes, contentType), mime, args.format, url)
    return {
      title: `${args.url} (${contentType})`,
      output: cut ? `${output}\n\n(Cut: only the first ${WEBFETCH_MAX_BYTES / 1024 / 1024} MB of the response was read.)` : output,
      metadata: { status: response.status, contentType, url, truncated: cut },
    }
  }

  /** Fetches `args.url`; `signal` is the caller's (it went away). Throws WebFetchError or WebFetchTimeoutError. */
  export async function run(ports: Ports, args: Args, signal?: AbortSignal): Promise<ToolResult> {
    const seconds = args.timeout ?? WEBFETCH_DEFAULT_TIMEOUT_S
    const timeout = AbortSignal.timeout(seconds * 1000)
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout
    try {
      return await get(ports, args, combined)
    } catch (error) {
      if (error instanceof NamedError) throw error
      if (timeout.aborted) {
        throw new WebFetchTimeoutError({ message: `${args.url} did not answer within ${seconds} s`, url: args.url, timeout: seconds })
      }
      // Node's fetch says only "fetch failed"; the cause says why (refused, reset, unknown host).
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
      const reason = `${error instanceof Error ? error.message : String(error)}${cause}`
      throw new WebFetchError({ message: `Could not fetch ${args.url}: ${reason}`, url: args.url }, { cause: error })
    } finally {
      // Sources hold AbortSignal.any's signal (and what follows it) only weakly: kept alive here until the call ends.
      void combined.aborted
    }
  }
}
