import { cors } from "hono/cors"

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

export function corsMiddleware(extra: readonly string[]) {
  return cors({
    origin: (origin) => (origin && isAllowedOrigin(origin, extra) ? origin : null),
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    maxAge: 86400,
  })
}
