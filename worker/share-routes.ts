import { Hono, type Context } from "hono"
import { NotFoundError } from "../shared/error.ts"
import { sseResponse, webStreamTransport } from "../shared/event/sse.ts"
import { Identifier } from "../shared/id.ts"
import { corsMiddleware } from "../shared/middleware/cors.ts"
import { errorHandler } from "../shared/middleware/error.ts"
import { SharePage } from "../shared/share/render.ts"
import { corsOrigins, heartbeatMs, sseBufferBytes, type Env } from "./env.ts"
import { subscribeToObject } from "./hub.ts"
import { log } from "./ports.ts"
import { SHARE_ID, shareObjectName } from "./share-links.ts"

/** A share link's path: `/s/<id>` and what hangs below it. */
export const SHARE_PATH = /^\/s\/[^/]+(\/|$)/

const GONE = "No such share link (it may have been unshared)"

/**
 * The public side of share links, for anyone with one (no token): the page `GET /s/:id`, the same as JSON at
 * `/s/:id/data`, and its live changes at `/s/:id/event`. Each is answered by the link's ShareObject, which holds a
 * copy of the one shared session and nothing else of its tenant. Unknown, made-up and unshared ids are all one
 * 404. Nothing is cached outside that object: an unshared link must be dead at once.
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

  const share = async (c: Context) => {
    const id = c.req.param("id")
    return id && SHARE_ID.test(id) ? env.SHARES.getByName(await shareObjectName(id)) : undefined
  }

  routes.get("/s/:id", async (c) => {
    const url = new URL(c.req.url)
    const html = await (await share(c))?.html(url.origin + url.pathname, `${url.pathname}/event`)
    c.header("Content-Security-Policy", await SharePage.contentSecurityPolicy())
    c.header("Referrer-Policy", "no-referrer")
    c.header("X-Content-Type-Options", "nosniff")
    if (html === undefined) return c.html(notFoundPage(), 404)
    return c.html(html)
  })

  routes.get("/s/:id/data", async (c) => {
    const data = await (await share(c))?.data()
    if (!data) throw new NotFoundError({ message: GONE })
    return c.json(data)
  })

  routes.get("/s/:id/event", async (c) => {
    const object = await share(c)
    if (!object || !(await object.owner())) throw new NotFoundError({ message: GONE })
    const lastEventId = c.req.header("Last-Event-ID") ?? c.req.query("lastEventId")
    return sseResponse(c, webStreamTransport, {
      heartbeatMs: heartbeatMs(env),
      maxBufferedBytes: sseBufferBytes(env),
      attach: (sink) => subscribeToObject(object, lastEventId, sink),
      controlFrame: (type, properties) => JSON.stringify({ id: Identifier.ascending("event"), type, properties }),
    })
  })
  return routes
}

function notFoundPage(): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<title>Not shared</title></head><body><h1>This link does not lead to a shared session</h1>" +
    "<p>It may have been unshared, or it was mistyped.</p></body></html>"
  )
}
