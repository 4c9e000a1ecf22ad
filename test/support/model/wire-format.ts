import type { Answer } from "./reply.ts"

/** One provider API as the model server speaks it: where it listens and how each answer looks. */
export interface WireFormat {
  name: "openai" | "anthropic"
  path: string
  /** Real providers name every response; the SDKs surface it among the response headers. */
  requestIdHeader: string
  toolCallIdPrefix: string
  /** All the request's system text, for telling title requests from agent steps. */
  systemText(body: any): string
  /** The SSE events (each a complete `…\n\n` frame) of a whole streamed answer. */
  stream(answer: Answer, exchange: Exchange): string[]
  /** A stream of the answer's text that breaks off: its opening and text, nothing that ends it. */
  cutStream(answer: Answer, exchange: Exchange): string[]
  /** The body of a non-streamed answer. */
  message(answer: Answer, exchange: Exchange): unknown
  /** The provider's error body; `message` undefined means its usual wording for the status. */
  error(status: number, message: string | undefined): unknown
}

export interface Exchange {
  body: any
  /** Unique per response, e.g. for `chatcmpl-…` and `msg_…` ids. */
  responseId: string
}

/**
 * Splits `text` into up to three pieces, the way providers deliver tool-call arguments: JSON that
 * only parses once the pieces are joined.
 */
export function pieces(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3))
  const result: string[] = []
  for (let start = 0; start < text.length; start += size) result.push(text.slice(start, start + size))
  return result
}

/** Text of a system prompt given as a string or as `{type: "text", text}` parts. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content.map((part) => (typeof part?.text === "string" ? part.text : "")).join("\n")
}
