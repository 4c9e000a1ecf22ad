import { z } from "zod"
import type { ContentfulStatusCode } from "hono/utils/http-status"

/**
 * Errors travel as NamedError JSON: `{ "name": "...", "data": { ... } }`.
 * Each class carries the HTTP status it maps to and a zod schema for the OpenAPI document.
 */
export abstract class NamedError extends Error {
  abstract readonly status: ContentfulStatusCode
  abstract readonly data: Record<string, unknown>

  toObject() {
    return { name: this.name, data: this.data }
  }
}

export function defineError<Name extends string, Data extends z.ZodObject>(
  name: Name,
  data: Data,
  status: ContentfulStatusCode,
) {
  const Schema = z.object({ name: z.literal(name), data }).meta({ ref: name })
  return class extends NamedError {
    static readonly Schema = Schema
    static readonly errorName = name
    static readonly status = status
    override readonly name = name
    readonly status = status
    constructor(
      readonly data: z.infer<Data>,
      options?: ErrorOptions,
    ) {
      super(typeof data.message === "string" ? data.message : name, options)
    }
  }
}

const Message = z.object({ message: z.string() })

export const BadRequestError = defineError(
  "BadRequest",
  z.object({
    message: z.string(),
    kind: z.enum(["Params", "Headers", "Query", "Body", "Payload"]).optional(),
    issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
  }),
  400,
)
export const UnauthorizedError = defineError("UnauthorizedError", Message, 401)
export const NotFoundError = defineError("NotFoundError", Message, 404)
export const ConflictError = defineError("ConflictError", Message, 409)
export const PayloadTooLargeError = defineError(
  "PayloadTooLargeError",
  z.object({ message: z.string(), limit: z.number() }),
  413,
)
export const ForbiddenError = defineError("ForbiddenError", Message, 403)
/** A path that leaves the request's directory (`..`, an absolute path elsewhere, a symlink that resolves outside). */
export const PathOutsideDirectoryError = defineError(
  "PathOutsideDirectoryError",
  z.object({ message: z.string(), path: z.string() }),
  403,
)
export const UnknownError = defineError("UnknownError", Message, 500)
/** The session is running a turn or a shell command; upstream refuses these changes then (409 SessionBusyError). */
export const SessionBusyError = defineError("SessionBusyError", z.object({ sessionID: z.string(), message: z.string() }), 409)
/** The route needs a machine (PTY, files, search) and none is connected. */
export const MachineUnavailableError = defineError("MachineUnavailable", Message, 503)

/** Errors that end an assistant message; they are stored on the message, not thrown at HTTP clients. */
export const ProviderAuthError = defineError(
  "ProviderAuthError",
  z.object({ providerID: z.string(), message: z.string() }),
  500,
)
export const MessageAbortedError = defineError("MessageAbortedError", Message, 500)
/** The provider's API answered with an error (upstream's shape); `isRetryable` for 429, 5xx and network faults. */
export const APIError = defineError(
  "APIError",
  z.object({
    message: z.string(),
    statusCode: z.number().optional(),
    isRetryable: z.boolean(),
    responseHeaders: z.record(z.string(), z.string()).optional(),
    responseBody: z.string().optional(),
  }),
  502,
)
/** The model stopped at its output limit. */
export const MessageOutputLengthError = defineError("MessageOutputLengthError", z.object({ message: z.string() }), 500)
/** The conversation no longer fits the model's context. */
export const ContextOverflowError = defineError(
  "ContextOverflowError",
  z.object({ message: z.string(), responseBody: z.string().optional() }),
  500,
)
/** `format: json_schema` was asked for and the answer did not validate. */
export const StructuredOutputError = defineError("StructuredOutputError", z.object({ message: z.string(), retries: z.number() }), 500)

/** Shorthand for the declared error responses of a route in the OpenAPI document. */
export type ErrorClass = { Schema: z.ZodType; errorName: string; status: ContentfulStatusCode }
/** Too many attempts (failed pairing codes, registrations) from one client; try again later. */
export const TooManyRequestsError = defineError("TooManyRequestsError", Message, 429)
/** A request put to the TUI through the control queue got no answer in time. */
export const TuiControlTimeoutError = defineError("TuiControlTimeoutError", Message, 504)
/** The user rejected a question; whoever asked stops waiting. */
export const QuestionRejectedError = defineError(
  "QuestionRejectedError",
  z.object({ message: z.string(), requestID: z.string() }),
  409,
)
/** The user rejected a permission request (with an optional message for the agent). */
export const PermissionRejectedError = defineError(
  "PermissionRejectedError",
  z.object({ message: z.string(), requestID: z.string() }),
  409,
)
/** A question or permission request ended without an answer: its instance was disposed, or the asker gave up. */
export const RequestDisposedError = defineError(
  "RequestDisposedError",
  z.object({ message: z.string(), requestID: z.string() }),
  410,
)
