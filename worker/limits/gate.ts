import { heartbeatMs, type Env } from "../env.ts"
import { objectName } from "../names.ts"
import { clientStream } from "./client-stream.ts"
import { STALLED_AFTER_HEARTBEATS, STREAM_LEASE_MS, TURN_LEASE_MS, tenantLimits, type TenantLimits } from "./config.ts"
import { limitResponse, RateLimitedError, StorageLimitError, TooManyStreamsError, TooManyTurnsError } from "./errors.ts"
import { RateBuckets } from "./rate.ts"

const EVENT_STREAM = /^\/(?:event|global\/event|session\/[^/]+\/event)$/
/** Routes that start (or join) a session's turn; the capture is the session id, the turn lease's id. */
const TURN_START = /^\/session\/([^/]+)\/(?:message|prompt|prompt_async|command|summarize)$/
/** Routes that add to what the tenant stores (new sessions and messages); the rest still work at the quota. */
const GROWS_STORAGE = /^\/session(?:\/[^/]+\/(?:message|prompt|prompt_async|command|shell|fork|summarize|init))?$/
/** How long an isolate trusts a tenant's stored-bytes total before asking its GlobalObject again. */
const STORED_BYTES_CACHE_MS = 2_000

/**
 * The edge's per-tenant limits, applied before the tenant's app. Requests per second are counted in the isolate
 * (no round trip); streams and turns hold leases in the tenant's GlobalObject, taken only by the requests that
 * open them; the stored-bytes total is asked for only by requests that add data, and cached briefly.
 */
export class LimitGate {
  private readonly limits: TenantLimits
  private readonly rate: RateBuckets
  private readonly storedBytes = new Map<string, { bytes: number; until: number }>()

  constructor(private readonly env: Env) {
    this.limits = tenantLimits(env)
    this.rate = new RateBuckets(this.limits.rps)
  }

  async serve(request: Request, tenant: string, ctx: ExecutionContext, app: () => Promise<Response>): Promise<Response> {
    const { limits } = this
    const rate = this.rate.take(tenant)
    if (!rate.ok) {
      const error = new RateLimitedError({ message: `More than ${limits.rps} requests per second`, limit: limits.rps })
      return limitResponse(error, rate.retryAfterMs)
    }
    const { pathname } = new URL(request.url)
    if (request.method === "POST" && GROWS_STORAGE.test(pathname) && (await this.stored(tenant)) >= limits.storedBytes) {
      const message = `The stored data reached its quota of ${limits.storedBytes} bytes; delete sessions to make room`
      return limitResponse(new StorageLimitError({ message, limit: limits.storedBytes }))
    }
    if (request.method === "GET" && EVENT_STREAM.test(pathname)) return this.stream(request, tenant, ctx, app)
    const turn = request.method === "POST" ? pathname.match(TURN_START)?.[1] : undefined
    if (turn) return this.turn(tenant, decodeURIComponent(turn), ctx, app)
    return app()
  }

  private global(tenant: string) {
    return this.env.GLOBAL.getByName(objectName(tenant, { kind: "global" }))
  }

  private async stored(tenant: string): Promise<number> {
    const now = Date.now()
    const cached = this.storedBytes.get(tenant)
    if (cached && cached.until > now) return cached.bytes
    const bytes = await this.global(tenant).storedBytes()
    if (this.storedBytes.size >= 10_000) this.storedBytes.delete(this.storedBytes.keys().next().value!)
    this.storedBytes.set(tenant, { bytes, until: now + STORED_BYTES_CACHE_MS })
    return bytes
  }

  /**
   * An event stream holds its lease while its client takes it: renewed meanwhile, released when it ends, when its
   * client disconnects, or when its client leaves its heartbeats untaken (how a client that left shows under
   * `wrangler dev`).
   */
  private async stream(request: Request, tenant: string, ctx: ExecutionContext, app: () => Promise<Response>): Promise<Response> {
    const { streams } = this.limits
    const global = this.global(tenant)
    const id = crypto.randomUUID()
    const lease = await global.acquireLease("stream", id, streams, STREAM_LEASE_MS)
    if (!lease.ok) {
      const error = new TooManyStreamsError({ message: `${streams} event streams are open; close one first`, limit: streams })
      return limitResponse(error, lease.retryAfterMs)
    }
    let released = false
    const release = () => {
      if (released) return
      released = true
      clearInterval(renewal)
      ctx.waitUntil(global.releaseLease("stream", id).catch(() => {}))
    }
    const renewal = setInterval(() => void global.renewLease("stream", id, STREAM_LEASE_MS).catch(() => {}), STREAM_LEASE_MS / 3)
    let response: Response
    try {
      response = await app()
    } catch (error) {
      release()
      throw error
    }
    if (!response.ok || !response.body) {
      release()
      return response
    }
    const stalledAfterMs = STALLED_AFTER_HEARTBEATS * heartbeatMs(this.env)
    return new Response(clientStream(response.body, { signal: request.signal, stalledAfterMs, onEnd: release }), response)
  }

  /**
   * A turn's lease is the session's: taken here (a prompt to a session already running joins its lease), renewed
   * and released by the session object that runs the turn; given back here if the request failed before one ran.
   */
  private async turn(tenant: string, sessionID: string, ctx: ExecutionContext, app: () => Promise<Response>): Promise<Response> {
    const { turns } = this.limits
    const global = this.global(tenant)
    const lease = await global.acquireLease("turn", sessionID, turns, TURN_LEASE_MS)
    if (!lease.ok) {
      const error = new TooManyTurnsError({ message: `${turns} sessions are running a turn; wait for one to end`, limit: turns })
      return limitResponse(error, lease.retryAfterMs)
    }
    const response = await app().catch((error) => {
      if (lease.fresh) ctx.waitUntil(global.releaseLease("turn", sessionID).catch(() => {}))
      throw error
    })
    if (lease.fresh && response.status >= 400) ctx.waitUntil(global.releaseLease("turn", sessionID).catch(() => {}))
    return response
  }
}
