import { createAnthropic } from "@ai-sdk/anthropic"
import { createOpenAICompatible } from "@ai-sdk/openai-compatible"
import { APICallError, generateText, jsonSchema, streamText, tool, type LanguageModel, type TextStreamPart, type ToolSet } from "ai"
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { DEFAULT_TITLE, startModelServer, TITLE_REQUEST_MARKER, type ModelServer } from "../support/model-server.ts"

const FORMATS = [
  {
    format: "openai",
    model: (server: ModelServer) =>
      createOpenAICompatible({ name: "scripted", baseURL: server.baseURL, apiKey: "sk-test", includeUsage: true }).chatModel("scripted-chat"),
  },
  {
    format: "anthropic",
    model: (server: ModelServer) => createAnthropic({ baseURL: server.baseURL, apiKey: "sk-ant-test" })("claude-sonnet-4-5"),
  },
] as const

const tools = {
  read: tool({ inputSchema: jsonSchema<{ path: string }>({ type: "object", properties: { path: { type: "string" } } }) }),
  bash: tool({ inputSchema: jsonSchema<{ command: string }>({ type: "object", properties: { command: { type: "string" } } }) }),
}

/**
 * Runs one streamed step and keeps every part. A failed request comes out as an error part; a
 * response body that breaks off makes the iteration itself throw, which lands in `thrown`.
 */
async function stream(model: LanguageModel, options: { abortSignal?: AbortSignal } = {}) {
  const result = streamText({ model, prompt: "hi", tools, maxRetries: 0, onError: () => {}, ...options })
  const parts: Part[] = []
  let thrown: unknown
  try {
    for await (const part of result.fullStream) parts.push(part)
  } catch (error) {
    thrown = error
  }
  const of = <T extends Part["type"]>(type: T) => parts.filter((part) => part.type === type) as Extract<Part, { type: T }>[]
  return { parts, of, error: of("error")[0]?.error, thrown }
}

type Part = TextStreamPart<ToolSet>

describe.each(FORMATS)("model server, $format format", ({ format, model: modelFor }) => {
  let server: ModelServer
  let model: LanguageModel
  beforeEach(async () => {
    server = await startModelServer()
    model = modelFor(server)
  })
  afterEach(async () => {
    await server.close()
  })

  test("text chunks arrive as text-delta parts, in order, and the request is recorded as a step", async () => {
    server.script({ text: ["Hel", "lo", ", world"] })
    const run = await stream(model)
    expect([run.error, run.thrown]).toEqual([undefined, undefined])
    expect(run.of("text-delta").map((part) => part.text)).toEqual(["Hel", "lo", ", world"])
    expect(run.of("finish")[0]?.finishReason).toBe("stop")
    expect(server.requests).toMatchObject([{ format, kind: "step", body: { stream: true, model: expect.any(String) } }])
  })

  test("reasoning arrives as reasoning deltas before the text", async () => {
    server.script({ reasoning: ["Let me ", "think."], text: "Done" })
    const run = await stream(model)
    // Anthropic's signature comes as one more, empty, reasoning delta.
    const reasoning = run.of("reasoning-delta").map((part) => part.text).filter((text) => text !== "")
    expect(reasoning).toEqual(["Let me ", "think."])
    const types = run.parts.map((part) => part.type)
    expect(types.lastIndexOf("reasoning-delta")).toBeLessThan(types.indexOf("text-delta"))
    expect(run.of("text-delta").map((part) => part.text)).toEqual(["Done"])
  })

  test("one tool call comes out as a tool-call part with parsed input", async () => {
    server.script({ toolCalls: [{ id: "call_given", name: "read", input: { path: "src/a.ts" } }] })
    const run = await stream(model)
    expect(run.of("tool-call")).toMatchObject([{ toolCallId: "call_given", toolName: "read", input: { path: "src/a.ts" } }])
    expect(run.of("finish")[0]?.finishReason).toBe("tool-calls")
  })

  test("several tool calls in one step, after text, get generated ids", async () => {
    server.script({
      text: "Looking.",
      toolCalls: [
        { name: "read", input: { path: "a.txt" } },
        { name: "bash", input: { command: "ls -la && echo \"done\"" } },
      ],
    })
    const run = await stream(model)
    const calls = run.of("tool-call")
    expect(calls).toMatchObject([
      { toolName: "read", input: { path: "a.txt" } },
      { toolName: "bash", input: { command: "ls -la && echo \"done\"" } },
    ])
    const prefix = format === "openai" ? "call_" : "toolu_"
    expect(calls.map((call) => call.toolCallId)).toEqual([`${prefix}1`, `${prefix}2`])
    expect(run.of("text-delta").map((part) => part.text)).toEqual(["Looking."])
  })

  test("usage: input, output, reasoning and cached tokens", async () => {
    server.script({ text: "ok", usage: { input: 100, output: 40, reasoning: 15, cacheRead: 30 } })
    const run = await stream(model)
    expect(run.of("finish")[0]?.totalUsage).toMatchObject({
      inputTokens: 130,
      inputTokenDetails: { noCacheTokens: 100, cacheReadTokens: 30 },
      outputTokens: 40,
      outputTokenDetails: { reasoningTokens: 15, textTokens: 25 },
    })
  })

  test.runIf(format === "anthropic")("usage: cache writes count into the prompt (Anthropic only)", async () => {
    server.script({ text: "ok", usage: { input: 5, cacheRead: 20, cacheWrite: 50 } })
    const run = await stream(model)
    expect(run.of("finish")[0]?.totalUsage).toMatchObject({
      inputTokens: 75,
      inputTokenDetails: { noCacheTokens: 5, cacheReadTokens: 20, cacheWriteTokens: 50 },
    })
  })

  test("usage defaults to small non-zero numbers", async () => {
    server.script("ok")
    const run = await stream(model)
    const usage = run.of("finish")[0]?.totalUsage
    expect(usage?.inputTokens).toBeGreaterThan(0)
    expect(usage?.outputTokens).toBeGreaterThan(0)
  })

  test("finish 'length' is reported as length", async () => {
    server.script({ text: "trunc", finish: "length" })
    const run = await stream(model)
    expect(run.of("finish")[0]?.finishReason).toBe("length")
  })

  test.each([
    { status: 401, retryable: false },
    { status: 429, retryable: true, headers: { "retry-after": "1" } },
    { status: 500, retryable: true },
    { status: 529, retryable: true },
  ])("error $status comes out as an APICallError with that status", async ({ status, retryable, headers }) => {
    server.script({ error: { status, message: `scripted ${status}`, ...(headers ? { headers } : {}) } })
    const run = await stream(model)
    expect(APICallError.isInstance(run.error)).toBe(true)
    const error = run.error as APICallError
    expect(error.statusCode).toBe(status)
    expect(error.message).toBe(`scripted ${status}`)
    expect(error.isRetryable).toBe(retryable)
    if (headers) expect(error.responseHeaders?.["retry-after"]).toBe("1")
  })

  test("an error without a message carries the provider's usual wording", async () => {
    server.script({ error: { status: 401 } })
    const run = await stream(model)
    expect((run.error as APICallError).message).toMatch(/api.key/i)
  })

  test("an empty script answers 500 saying so, without hanging", async () => {
    const run = await stream(model)
    expect((run.error as APICallError).statusCode).toBe(500)
    expect((run.error as APICallError).message).toContain("script ran out")
  })

  test("a cut stream delivers its text, then breaks off with an error", async () => {
    server.script({ cut: { after: "He" } })
    const run = await stream(model)
    expect(run.of("text-delta").map((part) => part.text)).toEqual(["He"])
    // The SDK does not turn a broken body into an error part: reading the stream throws.
    expect(APICallError.isInstance(run.thrown)).toBe(true)
    expect(run.thrown).toMatchObject({ statusCode: 200, cause: { message: "terminated" } })
    expect(run.of("finish")).toEqual([])
    expect(server.aborted).toBe(0)
  })

  test("a cut non-streamed answer fails generateText", async () => {
    server.script({ cut: { after: "He" } })
    const failure = generateText({ model, prompt: "hi", maxRetries: 0 })
    await expect(failure).rejects.toMatchObject({ statusCode: 200, cause: { message: "terminated" } })
    expect(server.aborted).toBe(0)
  })

  test("a slow stream abandoned through an AbortSignal is counted as aborted", async () => {
    server.script({ text: ["never"], firstChunkDelayMs: 60_000 })
    const controller = new AbortController()
    const running = stream(model, { abortSignal: controller.signal })
    await server.waitForRequests(1)
    controller.abort()
    await running
    await vi.waitFor(() => expect(server.aborted).toBe(1), { timeout: 10_000 })
  })

  test("a stream paced between chunks still delivers every chunk", async () => {
    server.script({ text: ["a", "b", "c"], chunkDelayMs: 5, firstChunkDelayMs: 5 })
    const run = await stream(model)
    expect(run.of("text-delta").map((part) => part.text)).toEqual(["a", "b", "c"])
  })

  test("title requests answer from their own queue and leave the step queue alone", async () => {
    server.script("the step's answer")
    server.titles("A custom title")
    const system = `Generate a short Title For This Conversation. Reply with the title only.`
    expect(system.toLowerCase()).toContain(TITLE_REQUEST_MARKER)
    const [first, second, step] = await Promise.all([
      generateText({ model, system, prompt: "hi", maxRetries: 0 }),
      generateText({ model, system, prompt: "hi", maxRetries: 0 }),
      stream(model),
    ])
    expect([first.text, second.text].sort()).toEqual(["A custom title", DEFAULT_TITLE].sort())
    expect(step.of("text-delta").map((part) => part.text).join("")).toBe("the step's answer")
    expect(server.requests.map((request) => request.kind).sort()).toEqual(["step", "title", "title"])
  })

  test("non-streamed requests get one JSON answer with reasoning, text and tool calls", async () => {
    server.script({ reasoning: "hmm", text: ["Rea", "ding"], toolCalls: [{ name: "read", input: { path: "b" } }], usage: { input: 7, output: 3 } })
    const result = await generateText({ model, prompt: "hi", tools, maxRetries: 0 })
    expect(result.reasoningText).toBe("hmm")
    expect(result.text).toBe("Reading")
    expect(result.toolCalls).toMatchObject([{ toolName: "read", input: { path: "b" } }])
    expect(result.finishReason).toBe("tool-calls")
    expect(result.usage).toMatchObject({ inputTokens: 7, outputTokens: 3 })
    expect(server.requests[0]?.body.stream).not.toBe(true)
  })

  test("a handler is consulted first and can fall through to the queue", async () => {
    server.script("from the queue")
    server.handle((request) => (JSON.stringify(request.body).includes("special") ? "from the handler" : undefined))
    const special = await generateText({ model, prompt: "special", maxRetries: 0 })
    const plain = await generateText({ model, prompt: "plain", maxRetries: 0 })
    expect([special.text, plain.text]).toEqual(["from the handler", "from the queue"])
  })
})

describe("model server, requests", () => {
  test("waitForRequests resolves once that many arrived; unknown routes answer 404", async () => {
    const server = await startModelServer()
    try {
      server.script("one", "two")
      const waiting = server.waitForRequests(2)
      const post = (path: string) => fetch(server.url + path, { method: "POST", body: JSON.stringify({ messages: [] }) })
      expect((await post("/v1/chat/completions")).status).toBe(200)
      expect((await post("/v1/messages")).status).toBe(200)
      expect((await post("/v1/responses")).status).toBe(404)
      expect((await waiting).map((request) => request.format)).toEqual(["openai", "anthropic"])
    } finally {
      await server.close()
    }
  })
})
