import type { ScriptedUsage } from "./reply.ts"
import { pieces, textOf, type Exchange, type WireFormat } from "./wire-format.ts"

/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`), with `reasoning_content` for reasoning as
 * DeepSeek and other OpenAI-compatible providers send it.
 */
export const openaiChat: WireFormat = {
  name: "openai",
  path: "/v1/chat/completions",
  requestIdHeader: "x-request-id",
  toolCallIdPrefix: "call_",

  systemText(body) {
    const messages: any[] = Array.isArray(body?.messages) ? body.messages : []
    return messages
      .filter((message) => message?.role === "system" || message?.role === "developer")
      .map((message) => textOf(message.content))
      .join("\n")
  },

  stream(answer, exchange) {
    const chunk = chunkMaker(exchange)
    const events = [chunk({ role: "assistant", content: "", refusal: null })]
    for (const reasoning of answer.reasoning) events.push(chunk({ content: null, reasoning_content: reasoning }))
    for (const text of answer.text) events.push(chunk({ content: text }))
    answer.toolCalls.forEach((call, index) => {
      const start = { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }
      events.push(chunk({ tool_calls: [start] }))
      for (const part of pieces(JSON.stringify(call.input))) {
        events.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }))
      }
    })
    events.push(chunk({}, answer.finish))
    // Usage comes only when asked for, in a last chunk without choices, as OpenAI does it.
    if (exchange.body?.stream_options?.include_usage === true) {
      events.push(data({ ...envelope(exchange, "chat.completion.chunk"), choices: [], usage: usageOf(answer.usage) }))
    }
    events.push("data: [DONE]\n\n")
    return events
  },

  cutStream(answer, exchange) {
    const chunk = chunkMaker(exchange)
    return [chunk({ role: "assistant", content: "", refusal: null }), ...answer.text.map((text) => chunk({ content: text }))]
  },

  message(answer, exchange) {
    const text = answer.text.join("")
    const toolCalls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: JSON.stringify(call.input) },
    }))
    const message = {
      role: "assistant",
      content: text === "" && toolCalls.length > 0 ? null : text,
      ...(answer.reasoning.length > 0 ? { reasoning_content: answer.reasoning.join("") } : {}),
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      refusal: null,
      annotations: [],
    }
    return {
      ...envelope(exchange, "chat.completion"),
      choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finish }],
      usage: usageOf(answer.usage),
    }
  },

  error(status, message) {
    const known = ERRORS[status] ?? { type: status >= 500 ? "server_error" : "invalid_request_error", code: null }
    return {
      error: { message: message ?? known.message ?? `Scripted error ${status}`, type: known.type, param: null, code: known.code },
    }
  },
}

const ERRORS: Record<number, { message?: string; type: string; code: string | null }> = {
  400: { type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided: sk-scr***ted.", type: "invalid_request_error", code: "invalid_api_key" },
  404: { message: "The model does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found" },
  429: { message: "Rate limit reached for requests. Please try again in 1s.", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
}

function envelope(exchange: Exchange, object: "chat.completion" | "chat.completion.chunk") {
  return {
    id: `chatcmpl-${exchange.responseId}`,
    object,
    created: Math.floor(Date.now() / 1000),
    model: String(exchange.body?.model ?? "scripted"),
    system_fingerprint: "fp_scripted",
  }
}

/** `chat.completion.chunk` frames; with usage requested, every one carries `usage: null`. */
function chunkMaker(exchange: Exchange) {
  const usage = exchange.body?.stream_options?.include_usage === true ? { usage: null } : {}
  return (delta: object, finish: string | null = null) =>
    data({ ...envelope(exchange, "chat.completion.chunk"), choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usage })
}

function data(value: object): string {
  return `data: ${JSON.stringify(value)}\n\n`
}

function usageOf(usage: Required<ScriptedUsage>) {
  // prompt_tokens counts the cached tokens too; completion_tokens counts the reasoning.
  const prompt = usage.input + usage.cacheRead
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output,
    total_tokens: prompt + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cacheRead, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}
