import type { Finish, ScriptedUsage } from "./reply.ts"
import { pieces, textOf, type Exchange, type WireFormat } from "./wire-format.ts"

/** Anthropic Messages (`POST /v1/messages`): text, thinking and tool_use content blocks. */
export const anthropicMessages: WireFormat = {
  name: "anthropic",
  path: "/v1/messages",
  requestIdHeader: "request-id",
  toolCallIdPrefix: "toolu_",

  systemText(body) {
    return textOf(body?.system)
  },

  stream(answer, exchange) {
    const events = [messageStart(answer.usage, exchange), event({ type: "ping" })]
    let index = 0
    if (answer.reasoning.length > 0) {
      const deltas: object[] = answer.reasoning.map((thinking) => ({ type: "thinking_delta", thinking }))
      // Thinking blocks end with their signature, which clients must send back in the next turn.
      deltas.push({ type: "signature_delta", signature: SIGNATURE })
      events.push(...block(index++, { type: "thinking", thinking: "", signature: "" }, deltas))
    }
    if (answer.text.length > 0) {
      const deltas = answer.text.map((text) => ({ type: "text_delta", text }))
      events.push(...block(index++, { type: "text", text: "" }, deltas))
    }
    for (const call of answer.toolCalls) {
      // As the API does: an empty piece first, then the JSON in pieces.
      const json = ["", ...pieces(JSON.stringify(call.input))]
      const deltas = json.map((partial_json) => ({ type: "input_json_delta", partial_json }))
      events.push(...block(index++, { type: "tool_use", id: call.id, name: call.name, input: {} }, deltas))
    }
    events.push(
      event({
        type: "message_delta",
        delta: { stop_reason: STOP_REASONS[answer.finish], stop_sequence: null },
        usage: {
          output_tokens: answer.usage.output,
          // The SDK reads thinking tokens from here; without them it reports reasoning as unknown.
          ...(answer.usage.reasoning > 0 ? { output_tokens_details: { thinking_tokens: answer.usage.reasoning } } : {}),
        },
      }),
      event({ type: "message_stop" }),
    )
    return events
  },

  cutStream(answer, exchange) {
    const start = event({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })
    const deltas = answer.text.map((text) => event({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }))
    return [messageStart(answer.usage, exchange), start, ...deltas]
  },

  message(answer, exchange) {
    const content: object[] = []
    if (answer.reasoning.length > 0) {
      content.push({ type: "thinking", thinking: answer.reasoning.join(""), signature: SIGNATURE })
    }
    if (answer.text.length > 0) content.push({ type: "text", text: answer.text.join("") })
    for (const call of answer.toolCalls) content.push({ type: "tool_use", id: call.id, name: call.name, input: call.input })
    return {
      id: `msg_${exchange.responseId}`,
      type: "message",
      role: "assistant",
      model: String(exchange.body?.model ?? "scripted"),
      content,
      stop_reason: STOP_REASONS[answer.finish],
      stop_sequence: null,
      usage: {
        ...inputUsage(answer.usage),
        output_tokens: answer.usage.output,
        ...(answer.usage.reasoning > 0 ? { output_tokens_details: { thinking_tokens: answer.usage.reasoning } } : {}),
      },
    }
  },

  error(status, message) {
    const known = ERRORS[status] ?? { type: status >= 500 ? "api_error" : "invalid_request_error" }
    return {
      type: "error",
      error: { type: known.type, message: message ?? known.message ?? `Scripted error ${status}` },
      request_id: "req_scripted",
    }
  },
}

const SIGNATURE = "c2NyaXB0ZWQtdGhpbmtpbmctc2lnbmF0dXJl"

const STOP_REASONS: Record<Finish, string> = { stop: "end_turn", tool_calls: "tool_use", length: "max_tokens" }

const ERRORS: Record<number, { message?: string; type: string }> = {
  400: { type: "invalid_request_error" },
  401: { message: "invalid x-api-key", type: "authentication_error" },
  403: { message: "Your API key does not have permission to use the specified resource.", type: "permission_error" },
  404: { message: "The requested resource could not be found.", type: "not_found_error" },
  413: { message: "Request exceeds the maximum allowed number of bytes.", type: "request_too_large" },
  429: { message: "Number of request tokens has exceeded your per-minute rate limit", type: "rate_limit_error" },
  500: { message: "Internal server error", type: "api_error" },
  529: { message: "Overloaded", type: "overloaded_error" },
}

function messageStart(usage: Required<ScriptedUsage>, exchange: Exchange): string {
  const message = {
    id: `msg_${exchange.responseId}`,
    type: "message",
    role: "assistant",
    model: String(exchange.body?.model ?? "scripted"),
    content: [],
    stop_reason: null,
    stop_sequence: null,
    // The real output count only comes with message_delta.
    usage: { ...inputUsage(usage), output_tokens: 1 },
  }
  return event({ type: "message_start", message })
}

/** Anthropic's input_tokens excludes the cache: the three add up to the whole prompt. */
function inputUsage(usage: Required<ScriptedUsage>) {
  return {
    input_tokens: usage.input,
    cache_creation_input_tokens: usage.cacheWrite,
    cache_read_input_tokens: usage.cacheRead,
  }
}

function block(index: number, contentBlock: object, deltas: object[]): string[] {
  return [
    event({ type: "content_block_start", index, content_block: contentBlock }),
    ...deltas.map((delta) => event({ type: "content_block_delta", index, delta })),
    event({ type: "content_block_stop", index }),
  ]
}

function event(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`
}
