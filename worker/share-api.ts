import { Hono } from "hono"
import { z } from "zod"
import { ForbiddenError, NotFoundError, UnauthorizedError } from "../shared/error.ts"
import { bodyLimit } from "../shared/middleware/body-limit.ts"
import { errorHandler } from "../shared/middleware/error.ts"
import { ShareData } from "../shared/schema/share.ts"
import { numberVar, type Env } from "./env.ts"
import type { ShareAccess } from "./objects/share.ts"
import { log } from "./ports.ts"
import { jsonBody, requireBearer } from "./request.ts"
import { newSecret, newShareID, sha256 } from "./secrets.ts"
import { SHARE_ID, shareObjectName, shareURL } from "./share-links.ts"
import type { Tenancy } from "./tenancy.ts"

/** Where a local server's share API lives: `/edge/share` and below. */
export const SHARE_API_PATH = /^\/edge\/share(\/|$)/

const CreateBody = z.object({ sessionID: z.string().startsWith("ses").max(128) })
const SyncBody = z.object({ secret: z.string().max(128), data: ShareData, replace: z.boolean().optional() })
const RemoveBody = z.object({ secret: z.string().max(128) })

/**
 * How a paired local server shares its sessions through this edge, as upstream's share service: create with the
 * machine's secret (so only paired machines make links here), then sync and remove with the share's own secret,
 * which the create answered once and this edge keeps only hashed.
 */
export function shareApiRoutes(env: Env, tenancy: Tenancy) {
  const routes = new Hono()
  routes.onError(errorHandler(log))
  routes.use(bodyLimit(numberVar(env.OPENCODE_MAX_BODY_BYTES, 10 * 1024 * 1024)))
  routes.use(async (c, next) => {
    await next()
    c.header("Cache-Control", "no-store")
  })

  routes.post("/edge/share", async (c) => {
    const machine = await tenancy.machine(requireBearer(c))
    if (!machine) throw new UnauthorizedError({ message: "Not a paired machine's secret (pair again)" })
    const { sessionID } = await jsonBody(c, CreateBody)
    const id = newShareID()
    const secret = newSecret()
    await env.SHARES.getByName(await shareObjectName(id)).open({ tenant: machine.tenant, sessionID, secretHash: await sha256(secret) }, [])
    return c.json({ id, secret, url: shareURL(env, new URL(c.req.url).origin, id) })
  })

  const share = async (id: string) => (SHARE_ID.test(id) ? env.SHARES.getByName(await shareObjectName(id)) : undefined)

  routes.post("/edge/share/:id/sync", async (c) => {
    const { secret, data, replace } = await jsonBody(c, SyncBody)
    checked(await (await share(c.req.param("id")))?.sync(await sha256(secret), data, replace ?? false))
    return c.json(true)
  })

  routes.delete("/edge/share/:id", async (c) => {
    const { secret } = await jsonBody(c, RemoveBody)
    checked(await (await share(c.req.param("id")))?.close(await sha256(secret)))
    return c.json(true)
  })

  return routes
}

function checked(access: ShareAccess | undefined): void {
  if (access === undefined || access === "not-found") throw new NotFoundError({ message: "No such share link (it may have been unshared)" })
  if (access === "invalid-secret") throw new ForbiddenError({ message: "This is not the share's secret" })
}
