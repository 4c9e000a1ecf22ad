import type { MiddlewareHandler } from "hono"
import type { Logger } from "../ports.ts"

/** One log line per request with its status and duration; event streams are logged when they open. */
export function requestLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    await next()
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration: Math.round((performance.now() - started) * 10) / 10,
    })
  }
}
