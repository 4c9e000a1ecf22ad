/**
 * What a test scripts the model server to answer, and the same answer with every default filled in,
 * which is what the wire formats render.
 */

export interface ScriptedToolCall {
  /** Generated when absent: `call_1`, `call_2`… (OpenAI), `toolu_1`… (Anthropic). */
  id?: string
  name: string
  input: Record<string, unknown>
}

/**
 * Token counts in OpenCode's terms: `input` is the uncached part of the prompt (the provider's total
 * prompt is input + cacheRead + cacheWrite), `output` includes `reasoning`. OpenAI has no cache
 * writes, so `cacheWrite` is not sent in that format.
 */
export interface ScriptedUsage {
  input?: number
  output?: number
  reasoning?: number
  cacheRead?: number
  cacheWrite?: number
}

export interface Pacing {
  /** Wait before the first event of the body (the response headers go out at once). */
  firstChunkDelayMs?: number
  /** Wait between later events. */
  chunkDelayMs?: number
}

export interface AnswerReply extends Pacing {
  /** One text delta per element; a string is one delta. */
  text?: string | string[]
  reasoning?: string | string[]
  toolCalls?: ScriptedToolCall[]
  usage?: ScriptedUsage
  /** "tool_calls" when there are tool calls, else "stop". */
  finish?: Finish
}

export interface ErrorReply {
  error: { status: number; message?: string; headers?: Record<string, string> }
}

/** Starts the stream, sends `after` as text, then destroys the socket. */
export interface CutReply extends Pacing {
  cut: { after: string }
}

export type Reply = AnswerReply | ErrorReply | CutReply

/** A string is shorthand for `{ text: thatString }`. */
export type ScriptedReply = Reply | string

export type Finish = "stop" | "tool_calls" | "length"

export interface Answer {
  text: string[]
  reasoning: string[]
  toolCalls: { id: string; name: string; input: Record<string, unknown> }[]
  usage: Required<ScriptedUsage>
  finish: Finish
}

export function asReply(scripted: ScriptedReply): Reply {
  return typeof scripted === "string" ? { text: scripted } : scripted
}

export function answerOf(reply: AnswerReply, nextToolCallId: () => string): Answer {
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({ ...call, id: call.id ?? nextToolCallId() }))
  const usage = reply.usage ?? {}
  const reasoning = usage.reasoning ?? 0
  return {
    text: deltas(reply.text),
    reasoning: deltas(reply.reasoning),
    toolCalls,
    // Small but non-zero, so code that sums usage has something to sum.
    usage: {
      input: usage.input ?? 10,
      output: usage.output ?? 5 + reasoning,
      reasoning,
      cacheRead: usage.cacheRead ?? 0,
      cacheWrite: usage.cacheWrite ?? 0,
    },
    finish: reply.finish ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
  }
}

function deltas(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  return typeof value === "string" ? [value] : value
}
