import { APICallError, LoadAPIKeyError } from "ai"
import { APIError, ContextOverflowError, MessageAbortedError, NamedError, ProviderAuthError, UnknownError } from "../error.ts"
import { MessageError as MessageErrorSchema, type MessageError } from "../schema/message.ts"

const OVERFLOW = /context length|context window|maximum context|too many tokens|prompt is too long|exceeds the context/i

/** A failure of a model call as the NamedError upstream stores on the assistant message. */
export function messageError(error: unknown, providerID: string): MessageError {
  if (error instanceof NamedError && isMessageError(error.name)) return error.toObject() as MessageError
  if (LoadAPIKeyError.isInstance(error)) return new ProviderAuthError({ providerID, message: error.message }).toObject() as MessageError
  if (APICallError.isInstance(error)) {
    const body = error.responseBody
    if (OVERFLOW.test(error.message) || (body && OVERFLOW.test(body))) {
      return new ContextOverflowError({ message: error.message, ...(body ? { responseBody: body } : {}) }).toObject() as MessageError
    }
    return new APIError({
      message: error.message,
      ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
      isRetryable: error.isRetryable,
      ...(error.responseHeaders ? { responseHeaders: error.responseHeaders } : {}),
      ...(body !== undefined ? { responseBody: body } : {}),
    }).toObject() as MessageError
  }
  if (isNetworkFault(error)) {
    return new APIError({ message: faultMessage(error), isRetryable: true }).toObject() as MessageError
  }
  return new UnknownError({ message: faultMessage(error) }).toObject() as MessageError
}

export function aborted(): MessageError {
  return new MessageAbortedError({ message: "The turn was aborted" }).toObject() as MessageError
}

/** Whether trying again may help: 429, 5xx and network faults. */
export function isRetryable(error: MessageError): boolean {
  return error.name === "APIError" && (error.data as { isRetryable: boolean }).isRetryable
}

/** How long the provider asked us to wait (`retry-after-ms`, `retry-after` in seconds or as a date), if it did. */
export function retryAfterMs(error: MessageError, now: number): number | undefined {
  if (error.name !== "APIError") return undefined
  const headers = (error.data as { responseHeaders?: Record<string, string> }).responseHeaders ?? {}
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
  const ms = Number(lower["retry-after-ms"])
  if (lower["retry-after-ms"] !== undefined && Number.isFinite(ms)) return Math.max(0, ms)
  const value = lower["retry-after"]
  if (value === undefined) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The errors a message may carry, by name, from the schema that declares them. */
const MESSAGE_ERROR_NAMES = new Set<string>(MessageErrorSchema.options.map((option) => option.shape.name.value))

function isMessageError(name: string): boolean {
  return MESSAGE_ERROR_NAMES.has(name)
}

function isNetworkFault(error: unknown): boolean {
  const text = `${(error as Error)?.name} ${(error as Error)?.message} ${((error as Error)?.cause as Error)?.message ?? ""}`
  return /fetch failed|ECONNREFUSED|ECONNRESET|socket|network|terminated|other side closed/i.test(text)
}

function faultMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
