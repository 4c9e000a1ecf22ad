import { z } from "zod"
import { defineError, type NamedError } from "../../shared/error.ts"

const Limit = z.object({ message: z.string(), limit: z.number() })

/** The tenant sent more requests per second than the edge allows; `retry-after` says when a request fits again. */
export const RateLimitedError = defineError("RateLimitedError", Limit, 429)
/** The tenant has as many event streams open as the edge allows; one must close first. */
export const TooManyStreamsError = defineError("TooManyStreamsError", Limit, 429)
/** The tenant has as many terminals as the edge allows; one must be closed first. */
export const TooManyTerminalsError = defineError("TooManyTerminalsError", Limit, 429)
/** The tenant has as many sessions running a turn as the edge allows; one must end first. */
export const TooManyTurnsError = defineError("TooManyTurnsError", Limit, 429)
/** The tenant's stored data reached its quota; deleting sessions makes room (waiting does not). */
export const StorageLimitError = defineError("StorageLimitError", Limit, 413)

/** A limit's answer: its NamedError, and `retry-after` (whole seconds) when waiting helps. */
export function limitResponse(error: NamedError, retryAfterMs?: number): Response {
  const headers: Record<string, string> = { "Cache-Control": "no-store" }
  if (retryAfterMs !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)))
  return Response.json(error.toObject(), { status: error.status, headers })
}
