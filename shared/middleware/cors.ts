import type { MiddlewareHandler } from "hono"

const OPENCODE_HOST = /^([a-z0-9-]+\.)*opencode\.ai$/
/** Origins that are not http(s) URLs have no parseable origin; they are compared as whole strings. */
const EXACT_ORIGINS = new Set(["tauri://localhost", "http://tauri.localhost", "https://tauri.localhost", "oc://renderer"])

/**
 * Whether a browser origin may call this server. The origin is parsed, not pattern-matched as text, so
 * `http://localhost:3000.evil.com` and `https://opencode.ai.evil.com` are refused.
 */
export function isAllowedOrigin(origin: string, extra: readonly string[] = []): boolean {
  if (EXACT_ORIGINS.has(origin)) return true
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  // An Origin header is exactly scheme://host[:port]; anything more (path, userinfo, trailing slash) is not one.
  if (url.origin !== origin) return false
  if (extra.some((allowed) => normalizeOrigin(allowed) === origin)) return true
  if (url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1")) return true
  return url.protocol === "https:" && url.port === "" && OPENCODE_HOST.test(url.hostname)
}

function normalizeOrigin(origin: string): string {
  try {
    const parsed = new URL(origin).origin
    return parsed === "null" ? origin : parsed
  } catch {
    return origin
  }
}

const ALLOW_METHODS = "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS"
const MAX_AGE = "86400"

/**
 * CORS for the allowed origins: preflights answered with 204, `Access-Control-Allow-Origin` echoed on
 * answers to an allowed origin, `Vary: Origin` on every answer. Hono's cors middleware sets `Vary` with
 * `c.header()` after the handler, which rebuilds the answer as a full Response and takes @hono/node-server
 * off its fast path; this one edits the answer's headers in place.
 */
export function corsMiddleware(extra: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin")
    const allowed = origin !== undefined && isAllowedOrigin(origin, extra) ? origin : undefined
    if (c.req.method === "OPTIONS") {
      const headers = new Headers({ Vary: "Origin", "Access-Control-Max-Age": MAX_AGE, "Access-Control-Allow-Methods": ALLOW_METHODS })
      if (allowed) headers.set("Access-Control-Allow-Origin", allowed)
      const requested = c.req.header("access-control-request-headers")
      if (requested) {
        headers.set("Access-Control-Allow-Headers", requested.split(",").map((name) => name.trim()).join(","))
        headers.append("Vary", "Access-Control-Request-Headers")
      }
      return new Response(null, { status: 204, headers })
    }
    await next()
    let headers = c.res.headers
    try {
      headers.append("Vary", "Origin")
    } catch {
      // a fetched answer passed through (web app files, the tunnel) has immutable headers
      c.res = new Response(c.res.body, c.res)
      headers = c.res.headers
      headers.append("Vary", "Origin")
    }
    if (allowed) headers.set("Access-Control-Allow-Origin", allowed)
  }
}
