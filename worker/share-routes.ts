import { Hono } from "hono"
import { z } from "zod"
import { NotFoundError } from "../shared/error.ts"
import { Sharing } from "../shared/domain/share.ts"
import { corsMiddleware } from "../shared/middleware/cors.ts"
import { errorHandler } from "../shared/middleware/error.ts"
import { corsOrigins, type Env } from "./env.ts"
import { sha256 } from "./objects/registry.ts"
import { createWorkerPorts, log } from "./ports.ts"
import { registry } from "./share-links.ts"

/** A share link's path: `/s/<id>` and what hangs below it. Ids are 16 random bytes in base64url. */
export const SHARE_PATH = /^\/s\/[^/]+(\/|$)/
const SHARE_ID = /^[A-Za-z0-9_-]{22}$/

/**
 * The public side of share links, for anyone with one (no token): `GET /s/:id/data`, the shared session as
 * JSON. A share id reaches its one session through the ports of its tenant, and nothing else is routed here.
 * Unknown, made-up and unshared ids are all one 404. Not cached: an unshared link must be dead at once.
 */
export function shareRoutes(env: Env) {
  const routes = new Hono()
  routes.onError(errorHandler(log))
  routes.notFound((c) => c.json(new NotFoundError({ message: `Not found: ${c.req.method} ${c.req.path}` }).toObject(), 404))
  routes.use(corsMiddleware(corsOrigins(env)))
  routes.use(async (c, next) => {
    await next()
    c.header("Cache-Control", "no-store")
  })

  routes.get("/s/:id/data", async (c) => {
    const id = z.string().regex(SHARE_ID).safeParse(c.req.param("id"))
    const shared = id.success ? await registry(env).sharedSession(await sha256(id.data)) : undefined
    if (!shared) throw new NotFoundError({ message: "No such share link (it may have been unshared)" })
    return c.json(await Sharing.data(createWorkerPorts(env, shared.tenant, { passwordAuth: false }), shared.sessionID))
  })
  return routes
}
