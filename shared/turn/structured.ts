import { z } from "zod"
import { StructuredOutputError } from "../error.ts"
import type { MessageError, Part } from "../schema/message.ts"

type Format = { type: "json_schema"; schema: Record<string, unknown>; retryCount?: number }

/**
 * `format: {type: "json_schema", schema}` on a prompt: the model is told to answer with JSON matching the schema,
 * its final text is checked against it, and a failing answer is asked for again (`retryCount` times, default 2)
 * before the message ends with StructuredOutputError. A passing answer fills the message's `structured`.
 */
export namespace StructuredOutput {
  export function instruction(format: Format): string {
    return `Your final answer must be a single JSON value, with no other text and no code fence, that matches this JSON Schema:\n${JSON.stringify(format.schema)}`
  }

  export type Checked = { value: unknown } | { problem: string }

  export function check(format: Format, parts: Part[]): Checked {
    const text = parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("").trim()
    const unfenced = text.replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, "$1")
    let value: unknown
    try {
      value = JSON.parse(unfenced)
    } catch {
      return { problem: "the answer is not JSON" }
    }
    let schema: z.ZodType
    try {
      schema = z.fromJSONSchema(format.schema as Parameters<typeof z.fromJSONSchema>[0])
    } catch {
      return { value }
    }
    const parsed = schema.safeParse(value)
    if (parsed.success) return { value: parsed.data }
    return { problem: parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ") }
  }

  export function retries(format: Format): number {
    return format.retryCount ?? 2
  }

  export function correction(problem: string): string {
    return `Your previous answer did not match the required JSON Schema (${problem}). Answer again with only the JSON value.`
  }

  export function failure(problem: string, retries: number): MessageError {
    return new StructuredOutputError({ message: `The answer did not match the JSON Schema: ${problem}`, retries }).toObject() as MessageError
  }
}
