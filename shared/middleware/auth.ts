import type { Context, Env, MiddlewareHandler } from "hono"
import { UnauthorizedError } from "../error.ts"

const encoder = new TextEncoder()

/** Compares in time that depends only on the lengths, so a guess learns nothing from timing. */
function safeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a)
  const right = encoder.encode(b)
  let diff = left.length ^ right.length
  for (let i = 0; i < left.length; i++) diff |= left[i]! ^ (right[i % right.length] ?? 0)
  return diff === 0
}

function decodeCredentials(encoded: string): string | undefined {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0)))
  } catch {
    return undefined
  }
}

/**
 * HTTP Basic auth as upstream: `Authorization: Basic` or `?auth_token=<base64 user:pass>` (for EventSource
 * and WebSocket clients, which cannot set headers). Preflights pass so CORS keeps working.
 */
export function basicAuth<E extends Env>(
  credentials: { username: string; password: string },
  bypass: (c: Context<E>) => boolean | Promise<boolean> = () => false,
): MiddlewareHandler<E> {
  const expected = `${credentials.username}:${credentials.password}`
  return async (c, next) => {
    if (c.req.method === "OPTIONS" || (await bypass(c))) return next()
    const header = c.req.header("Authorization")
    const encoded = header?.match(/^Basic\s+(.+)$/i)?.[1] ?? c.req.query("auth_token")
    const given = encoded ? decodeCredentials(encoded.trim()) : undefined
    if (given !== undefined && safeEqual(given, expected)) return next()
    c.header("WWW-Authenticate", 'Basic realm="opencode", charset="UTF-8"')
    const error = new UnauthorizedError({ message: "Authentication required" })
    return c.json(error.toObject(), 401)
  }
}
