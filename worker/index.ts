import { createApp, type App } from "../shared/app.ts"
import { UnauthorizedError } from "../shared/error.ts"
import type { Env } from "./env.ts"
import { DEFAULT_TENANT } from "./names.ts"
import { createTenancy, PAIR_AGAIN_PATH, requestToken } from "./pairing.ts"
import { WebApp } from "../shared/webapp/webapp.ts"
import { createWorkerPorts } from "./ports.ts"
import type { Tenancy } from "./tenancy.ts"
import { acceptTunnel } from "./tunnel.ts"
import { ticketTenant } from "./remote-machine.ts"
import { PTY_CONNECT_PATH } from "../shared/routes/pty.ts"
import { SHARE_PATH, shareRoutes } from "./share-routes.ts"
import { SHARE_API_PATH, shareApiRoutes } from "./share-api.ts"
import { LimitGate } from "./limits/gate.ts"

export { SessionObject } from "./objects/session.ts"
export { DirectoryObject } from "./objects/directory.ts"
export { GlobalObject } from "./objects/global.ts"
export { MachineObject } from "./objects/machine.ts"
export { RegistryObject } from "./objects/registry.ts"
export { ShareObject } from "./objects/share.ts"

/** Apps are built once per tenant and isolate; the oldest is dropped past this many. */
const MAX_CACHED_APPS = 64
const apps = new Map<string, App>()
let tenancy: Tenancy | undefined
let shares: ReturnType<typeof shareRoutes> | undefined
let shareApi: ReturnType<typeof shareApiRoutes> | undefined
let limits: LimitGate | undefined

/**
 * A tenant's app. A tenant reached through a client token is already authenticated; the open tenant
 * (OPENCODE_OPEN_TENANT, for local development) keeps the optional password of OPENCODE_SERVER_PASSWORD.
 */
function appFor(env: Env, tenant: string, viaToken: boolean): App {
  const key = `${viaToken ? "token" : "open"}:${tenant}`
  let app = apps.get(key)
  if (!app) {
    if (apps.size >= MAX_CACHED_APPS) apps.delete(apps.keys().next().value!)
    // The open tenant is a developer's own edge (`npm run dev`), like the local server: it has no limits.
    app = createApp(createWorkerPorts(env, tenant, { passwordAuth: !viaToken, unlimited: !viaToken }))
    apps.set(key, app)
  }
  return app
}

function unauthorized(): Response {
  const error = new UnauthorizedError({ message: "A client token from pairing is required (Authorization: Bearer <token>)" })
  return Response.json(error.toObject(), { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="opencode"' } })
}

/**
 * A page of the app opened without a valid token: a browser whose token no longer works is told to pair again;
 * one that never paired is sent to pair.
 */
function unpairedPage(request: Request): Response {
  return Response.redirect(new URL(requestToken(request) ? PAIR_AGAIN_PATH : "/edge/pair", request.url).href, 302)
}

/**
 * The Worker entry only routes. `/edge/tunnel` takes a machine's WebSocket; `/edge/share` is paired machines'
 * share API; other `/edge/*` routes are pairing;
 * `/s/*` are share links; everything else is the OpenCode API of the caller's tenant, served by the shared app.
 */
export default {
  async fetch(request, env, ctx) {
    tenancy ??= createTenancy(env)
    limits ??= new LimitGate(env)
    const gate = limits
    const { pathname } = new URL(request.url)
    if (pathname === "/edge/tunnel") return acceptTunnel(request, env, tenancy)
    if (SHARE_API_PATH.test(pathname)) return (shareApi ??= shareApiRoutes(env, tenancy)).fetch(request, env, ctx)
    if (pathname.startsWith("/edge/")) return tenancy.routes.fetch(request, env, ctx)
    // Share links are public: the link's id names the one session it reaches, whatever the caller's token.
    if (SHARE_PATH.test(pathname)) return (shares ??= shareRoutes(env)).fetch(request, env, ctx)

    // The web app's files are public (they are the same for everyone); its pages need a paired browser.
    const appFile = WebApp.claims(request) && WebApp.isFile(pathname)
    // A paired tenant's requests pass its limits (worker/limits/) before its app; the app's files (cached,
    // dozens at a page load) do not count.
    const tenant = await tenancy.clientTenant(request)
    if (tenant && appFile) return appFor(env, tenant, true).fetch(request, env, ctx)
    if (tenant) return gate.serve(request, tenant, ctx, async () => appFor(env, tenant, true).fetch(request, env, ctx))
    // A browser's PTY connect with a single-use ticket: the ticket names its tenant, whose route checks it.
    const ticketed = PTY_CONNECT_PATH.test(pathname) ? ticketTenant(new URL(request.url).searchParams.get("ticket")) : undefined
    if (ticketed) return gate.serve(request, ticketed, ctx, async () => appFor(env, ticketed, true).fetch(request, env, ctx))
    // Preflights, health and the API document reveal nothing of any tenant.
    const open = env.OPENCODE_OPEN_TENANT
    const anonymous = request.method === "OPTIONS" || pathname === "/global/health" || pathname === "/doc" || appFile
    if (open || anonymous) return appFor(env, open || DEFAULT_TENANT, false).fetch(request, env, ctx)
    if (WebApp.claims(request)) return unpairedPage(request)
    return unauthorized()
  },
} satisfies ExportedHandler<Env>
