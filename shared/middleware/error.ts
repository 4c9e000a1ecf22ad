import type { ErrorHandler } from "hono"
import { HTTPException } from "hono/http-exception"
import { BadRequestError, NamedError, UnknownError } from "../error.ts"
import type { Logger } from "../ports.ts"

/** NamedErrors answer with their own status and JSON; anything else is a 500 UnknownError without internals. */
export function errorHandler(log: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof NamedError) return c.json(error.toObject(), error.status)
    if (error instanceof HTTPException) {
      // Hono's own 400s (malformed JSON) become the same NamedError as our validation failures.
      if (error.status === 400) {
        return c.json(new BadRequestError({ message: error.message || "Bad request", kind: "Body" }).toObject(), 400)
      }
      return error.getResponse()
    }
    log.error("request failed", { method: c.req.method, path: c.req.path, error: String(error?.stack ?? error) })
    return c.json(new UnknownError({ message: "Internal server error" }).toObject(), 500)
  }
}
