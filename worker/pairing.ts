import { Hono, type Context } from "hono"
import { z } from "zod"
import {
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
  type NamedError,
} from "../shared/error.ts"
import { errorHandler } from "../shared/middleware/error.ts"
import type { Env } from "./env.ts"
import type { RegistryFailure, RegistryResult } from "./objects/registry.ts"
import { sha256 } from "./secrets.ts"
import type { Tenancy } from "./tenancy.ts"
import { Tunnel } from "../shared/tunnel.ts"
import { machineObjectName } from "./names.ts"
import { edgePage, pairAgainPage, pairPage } from "./pages.ts"
import { clearedTokenCookie, cookieToken, tokenCookie } from "./token-cookie.ts"
import { jsonBody, requireBearer } from "./request.ts"

/** Where a browser whose pairing no longer holds is sent. */
export const PAIR_AGAIN_PATH = "/edge/pair-again"

/**
 * How long an isolate trusts a client token it has already checked, without asking the registry again.
 * A revoked token is refused everywhere within this bound (at once by the isolate that revoked it).
 */
export const TOKEN_CACHE_MS = 10_000
const TOKEN_CACHE_MAX = 10_000

/** Secrets and tokens are 32 random bytes in base64url; anything else (e.g. a server password) skips the registry. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

function decodeBasic(encoded: string): string | undefined {
  try {
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(encoded.trim()), (char) => char.charCodeAt(0)))
    const colon = decoded.indexOf(":")
    return colon === -1 ? undefined : decoded.slice(colon + 1)
  } catch {
    return undefined
  }
}

/**
 * The client token of a request: `Authorization: Bearer <token>`, Basic auth with the token as password (any
 * user name, so clients that only know a server password work), `?auth_token=<base64 user:token>` (the web
 * app's form), or a paired browser's cookie.
 */
export function requestToken(request: Request): string | undefined {
  const header = request.headers.get("Authorization") ?? ""
  const bearer = header.match(/^Bearer\s+(\S+)\s*$/i)?.[1]
  if (bearer) return bearer
  const basic = header.match(/^Basic\s+(\S+)\s*$/i)?.[1]
  if (basic) return decodeBasic(basic)
  const query = new URL(request.url).searchParams.get("auth_token")
  return query ? decodeBasic(query) : cookieToken(request)
}

/** The web app's address of a new session in a directory (`/<base64url(directory)>/session`), as the app makes it. */
export function appSessionPath(directory: string): string {
  const base64url = Tunnel.encodeBase64(new TextEncoder().encode(directory)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
  return `/${base64url}/session`
}

/** The caller, for the registry's rate limits. */
function clientOf(c: Context): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown"
}

function failure(result: { error: RegistryFailure; message: string }): NamedError {
  switch (result.error) {
    case "unauthorized":
      return new UnauthorizedError({ message: result.message })
    case "not-found":
      return new NotFoundError({ message: result.message })
    case "rate-limited":
      return new TooManyRequestsError({ message: result.message })
  }
}

function unwrap<T>(result: RegistryResult<T>): T {
  if (!result.ok) throw failure(result)
  return result.value
}

const PairBody = z.object({ code: z.string().min(1).max(64) })
const RevokeTokenBody = z.object({ tokenID: z.string().min(1).max(128) })

function pairURL(c: Context, code: string): string {
  return `${new URL(c.req.url).origin}/edge/pair?code=${encodeURIComponent(code)}`
}

const log = {
  debug() {},
  info() {},
  warn(message: string, data?: Record<string, unknown>) {
    console.warn(message, data ?? "")
  },
  error(message: string, data?: Record<string, unknown>) {
    console.error(message, data ?? "")
  },
}

/** Machines, pairing and client tokens on the edge, backed by the one RegistryObject. */
export function createTenancy(env: Env): Tenancy {
  const registry = () => env.REGISTRY.get(env.REGISTRY.idFromName("registry"))
  /** token hash -> tenant, trusted until `until` (positive answers only). */
  const cache = new Map<string, { tenant: string; until: number }>()

  function forget(hashes: string[]) {
    for (const hash of hashes) cache.delete(hash)
  }

  const routes = new Hono()
  routes.onError(errorHandler(log))
  routes.notFound((c) => c.json(new NotFoundError({ message: `Not found: ${c.req.method} ${c.req.path}` }).toObject(), 404))
  routes.use(async (c, next) => {
    await next()
    c.header("Cache-Control", "no-store")
  })

  routes.post("/edge/machine/register", async (c) => {
    const registration = unwrap(await registry().registerMachine(clientOf(c)))
    return c.json({ ...registration, pairURL: pairURL(c, registration.pairingCode) })
  })

  routes.post("/edge/machine/pairing-code", async (c) => {
    const pairingCode = unwrap(await registry().newPairingCode(requireBearer(c)))
    return c.json({ pairingCode, pairURL: pairURL(c, pairingCode) })
  })

  /**
   * Answers the token, and `app`: where the web app opens on the paired machine (its default directory's new
   * session, once its agent has said which that is). The pairing page of this origin also gets the cookie.
   */
  routes.post("/edge/pair", async (c) => {
    const { code } = await jsonBody(c, PairBody)
    const pairing = unwrap(await registry().pair(code, clientOf(c)))
    const served = await env.MACHINES.getByName(machineObjectName(pairing.tenant)).served()
    if (c.req.header("Sec-Fetch-Site") === "same-origin") c.header("Set-Cookie", tokenCookie(c.req.raw, pairing.token))
    return c.json({ ...pairing, app: served ? appSessionPath(served.directory) : "/" })
  })

  routes.get("/edge/pair", (c) => edgePage(c, pairPage))

  routes.get(PAIR_AGAIN_PATH, (c) => {
    c.header("Set-Cookie", clearedTokenCookie(c.req.raw))
    return edgePage(c, (nonce) => pairAgainPage(nonce, new URL(c.req.url).origin))
  })

  routes.post("/edge/token/revoke", async (c) => {
    const credential = requireBearer(c)
    const { tokenID } = await jsonBody(c, RevokeTokenBody)
    forget([unwrap(await registry().revokeToken(tokenID, credential))])
    return c.json(true)
  })

  routes.post("/edge/machine/revoke", async (c) => {
    forget(unwrap(await registry().revokeMachine(requireBearer(c))))
    return c.json(true)
  })

  return {
    routes,

    async clientTenant(request) {
      const token = requestToken(request)
      if (!token || !TOKEN_SHAPE.test(token)) return undefined
      const hash = await sha256(token)
      const now = Date.now()
      const cached = cache.get(hash)
      if (cached && cached.until > now) return cached.tenant
      cache.delete(hash)
      const tenant = await registry().clientTenant(hash)
      if (tenant) {
        if (cache.size >= TOKEN_CACHE_MAX) cache.delete(cache.keys().next().value!)
        cache.set(hash, { tenant, until: now + TOKEN_CACHE_MS })
      }
      return tenant
    },

    async machine(secret) {
      if (!TOKEN_SHAPE.test(secret)) return undefined
      return registry().machine(await sha256(secret))
    },
  }
}
