/**
 * A scripted stand-in for LLM providers: a real HTTP server that answers OpenAI Chat Completions and
 * Anthropic Messages requests, streamed or not, in the providers' own wire formats, so the AI SDK
 * providers parse it unchanged. Tests queue the replies; every request is kept for assertions.
 *
 *   const model = await startModelServer()
 *   model.script({ text: ["Hel", "lo"] }, { toolCalls: [{ name: "read", input: { path: "a" } }] })
 *   createAnthropic({ baseURL: model.baseURL, apiKey: "test" })
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { anthropicMessages } from "./model/anthropic-messages.ts"
import { openaiChat } from "./model/openai-chat.ts"
import { answerOf, asReply, type Reply, type ScriptedReply } from "./model/reply.ts"
import { pause, sendEvents, sendJson } from "./model/respond.ts"
import type { Exchange, WireFormat } from "./model/wire-format.ts"

export type { Reply, ScriptedReply, AnswerReply, ErrorReply, CutReply, ScriptedToolCall, ScriptedUsage } from "./model/reply.ts"

/**
 * A request whose system prompt contains these words (any case) asks for a session title; the
 * server's title prompt must contain them too.
 */
export const TITLE_REQUEST_MARKER = "title for this conversation"

export const DEFAULT_TITLE = "Scripted title"

/**
 * The scripted model as a user configures it (the config of ../shared/docs/agent-turn.md, which upstream runs
 * with too): provider `fake` at `baseURL`, model `fake-1` (priced, with tools), the default and small model.
 */
export function fakeProviderConfig(baseURL: string, npm: "@ai-sdk/openai-compatible" | "@ai-sdk/anthropic" = "@ai-sdk/openai-compatible") {
  return {
    provider: {
      fake: {
        npm,
        name: "Fake",
        options: { baseURL, apiKey: "k" },
        models: { "fake-1": { name: "Fake 1", tool_call: true, limit: { context: 100_000, output: 4096 }, cost: { input: 3, output: 15 } } },
      },
    },
    model: "fake/fake-1",
    small_model: "fake/fake-1",
  }
}

export interface ModelRequest {
  path: string
  format: "openai" | "anthropic"
  headers: IncomingHttpHeaders
  /** The parsed JSON body. */
  body: any
  /** Title requests are answered from their own queue, so they never take an agent step's reply. */
  kind: "step" | "title"
}

/** Consulted before the queues; undefined falls through to them. */
export type ReplyHandler = (request: ModelRequest) => ScriptedReply | undefined | Promise<ScriptedReply | undefined>

export interface ModelServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** `${url}/v1`: the `baseURL` option of both @ai-sdk/openai-compatible and @ai-sdk/anthropic. */
  readonly baseURL: string
  /** Every request received, in order of arrival. */
  readonly requests: ModelRequest[]
  /** Responses the client abandoned before they were complete. */
  readonly aborted: number
  /** Queues replies for agent-step requests, answered in order. An empty queue answers 500. */
  script(...replies: ScriptedReply[]): void
  /** Queues replies for title requests; an empty queue answers DEFAULT_TITLE. */
  titles(...replies: ScriptedReply[]): void
  handle(handler: ReplyHandler): void
  /** Resolves with the requests once at least `count` have arrived. */
  waitForRequests(count: number): Promise<ModelRequest[]>
  close(): Promise<void>
}

export async function startModelServer(): Promise<ModelServer> {
  const model = new ScriptedModelServer()
  await model.listen()
  return model
}

const FORMATS: WireFormat[] = [openaiChat, anthropicMessages]

class ScriptedModelServer implements ModelServer {
  readonly requests: ModelRequest[] = []
  private readonly server: Server = createServer((req, res) => void this.serve(req, res))
  private readonly steps: ScriptedReply[] = []
  private readonly titleReplies: ScriptedReply[] = []
  private handler: ReplyHandler | undefined
  private readonly waiters = new Set<() => boolean>()
  private abandoned = 0
  private responses = 0
  private toolCallIds = 0
  /** Cut replies: the server broke these off, the client did not abandon them. */
  private readonly brokenOnPurpose = new WeakSet<ServerResponse>()

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  get baseURL(): string {
    return `${this.url}/v1`
  }

  get aborted(): number {
    return this.abandoned
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve))
  }

  script(...replies: ScriptedReply[]): void {
    this.steps.push(...replies)
  }

  titles(...replies: ScriptedReply[]): void {
    this.titleReplies.push(...replies)
  }

  handle(handler: ReplyHandler): void {
    this.handler = handler
  }

  waitForRequests(count: number): Promise<ModelRequest[]> {
    return new Promise((resolve) => {
      const arrived = () => {
        if (this.requests.length < count) return false
        resolve([...this.requests])
        return true
      }
      if (!arrived()) this.waiters.add(arrived)
    })
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const gone = new AbortController()
    res.on("close", () => {
      gone.abort()
      if (!res.writableFinished && !this.brokenOnPurpose.has(res)) this.abandoned++
    })
    const format = FORMATS.find((candidate) => req.method === "POST" && req.url === candidate.path)
    if (!format) {
      sendJson(res, 404, { error: { message: `model-server: no route ${req.method} ${req.url}` } })
      return
    }
    let body: any
    try {
      body = JSON.parse(await readText(req))
    } catch {
      // A client that left mid-body is counted already; there is nobody to answer.
      if (!gone.signal.aborted) sendJson(res, 400, format.error(400, "model-server: the request body is not JSON"))
      return
    }
    const kind = format.systemText(body).toLowerCase().includes(TITLE_REQUEST_MARKER) ? "title" : "step"
    const request: ModelRequest = { path: format.path, format: format.name, headers: req.headers, body, kind }
    this.record(request)
    const exchange: Exchange = { body, responseId: `scripted${++this.responses}` }
    const headers = { [format.requestIdHeader]: `req_${exchange.responseId}` }
    try {
      await this.deliver(res, format, await this.replyFor(request), exchange, headers, gone.signal)
    } catch (error) {
      if (res.headersSent) res.destroy()
      else sendJson(res, 500, format.error(500, `model-server: ${String(error)}`), headers)
    }
  }

  private async deliver(
    res: ServerResponse,
    format: WireFormat,
    reply: Reply,
    exchange: Exchange,
    headers: Record<string, string>,
    gone: AbortSignal,
  ): Promise<void> {
    const streamed = exchange.body.stream === true
    const nextToolCallId = () => `${format.toolCallIdPrefix}${++this.toolCallIds}`
    if ("error" in reply) {
      const { status, message, headers: extra } = reply.error
      sendJson(res, status, format.error(status, message), { ...headers, ...extra })
    } else if ("cut" in reply) {
      const answer = answerOf({ text: reply.cut.after }, nextToolCallId)
      if (streamed) {
        if (!(await sendEvents(res, format.cutStream(answer, exchange), reply, gone, headers))) return
      } else {
        if (!(await pause(reply.firstChunkDelayMs, gone))) return
        const json = JSON.stringify(format.message(answer, exchange))
        res.writeHead(200, { "content-type": "application/json", ...headers })
        await new Promise<void>((resolve) => res.write(json.slice(0, Math.floor(json.length / 2)), () => resolve()))
      }
      this.brokenOnPurpose.add(res)
      res.destroy()
    } else {
      const answer = answerOf(reply, nextToolCallId)
      if (streamed) {
        if (await sendEvents(res, format.stream(answer, exchange), reply, gone, headers)) res.end()
      } else if (await pause(reply.firstChunkDelayMs, gone)) {
        sendJson(res, 200, format.message(answer, exchange), headers)
      }
    }
  }

  private async replyFor(request: ModelRequest): Promise<Reply> {
    const handled = await this.handler?.(request)
    if (handled !== undefined) return asReply(handled)
    if (request.kind === "title") return asReply(this.titleReplies.shift() ?? DEFAULT_TITLE)
    const next = this.steps.shift()
    if (next !== undefined) return asReply(next)
    const number = this.requests.filter((each) => each.kind === "step").length
    return { error: { status: 500, message: `model-server: the script ran out: no reply queued for step request #${number}` } }
  }

  private record(request: ModelRequest): void {
    this.requests.push(request)
    for (const arrived of this.waiters) if (arrived()) this.waiters.delete(arrived)
  }
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8")
}
