import type { Ports } from "../ports.ts"
import type { CachedAsset } from "./cache.ts"
import { contentSecurityPolicy } from "./csp.ts"
import { unreachablePage } from "./fallback.ts"

/** Where upstream's server used to proxy the app from, and where it is hosted. */
export const DEFAULT_APP_URL = "https://app.opencode.ai"
/** How long a cached file is served before the origin is asked whether it changed. */
const REVALIDATE_MS = 5 * 60_000
/** How long the origin may take to answer before a cached copy (or the fallback page) is served. */
const ORIGIN_TIMEOUT_MS = 10_000
/** Files larger than this are passed through, not cached. */
const MAX_CACHED_BYTES = 16 * 1024 * 1024

/**
 * The official OpenCode web app, served from its origin (`OPENCODE_APP_URL`) at this server's own origin, so
 * the app talks to this server. Only requests no API route answered come here, and only those a browser makes
 * for the app: `/`, files (a name with an extension), and page navigations (deep links such as
 * `/<base64url(directory)>/session/<id>`), which all get the app's page. Files are cached and revalidated;
 * when the origin cannot be reached, a cached copy is served, else a page that says what to do instead.
 */
export namespace WebApp {
  export function claims(request: Request): boolean {
    if (request.method !== "GET" && request.method !== "HEAD") return false
    const path = new URL(request.url).pathname
    return path === "/" || isFile(path) || (request.headers.get("accept") ?? "").includes("text/html")
  }

  export async function serve(ports: Ports, request: Request): Promise<Response> {
    const url = new URL(request.url)
    // Every page of the single-page app is its index: one cached copy serves them all.
    const path = isFile(url.pathname) ? url.pathname : "/"
    const origin = ports.config.appUrl.replace(/\/+$/, "")
    const key = `${origin}${path}`
    const cached = await ports.appCache.get(key).catch(() => undefined)
    const now = ports.clock.now()
    let asset = cached
    if (!cached || now - cached.fetchedAt > REVALIDATE_MS) {
      const fetched = await fetchAsset(ports, key, cached, now)
      if (fetched) {
        asset = fetched
        if (fetched.status === 200 && fetched.body.byteLength <= MAX_CACHED_BYTES) ports.background(ports.appCache.put(key, fetched).catch(() => {}))
      }
    }
    if (!asset) {
      return new Response(request.method === "HEAD" ? null : unreachablePage(origin, url.origin), {
        status: 503,
        headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Retry-After": "30" },
      })
    }
    return respond(request, path, asset)
  }

  async function fetchAsset(ports: Ports, url: string, cached: CachedAsset | undefined, now: number): Promise<CachedAsset | undefined> {
    const headers: Record<string, string> = {}
    if (cached?.etag) headers["If-None-Match"] = cached.etag
    if (cached?.lastModified) headers["If-Modified-Since"] = cached.lastModified
    try {
      const response = await ports.fetch(url, { headers, redirect: "follow", signal: AbortSignal.timeout(ORIGIN_TIMEOUT_MS) })
      if (response.status === 304 && cached) {
        await response.body?.cancel()
        return { ...cached, fetchedAt: now }
      }
      if (response.status >= 500) {
        await response.body?.cancel()
        return cached
      }
      return {
        status: response.status,
        contentType: response.headers.get("content-type") ?? "application/octet-stream",
        body: new Uint8Array(await response.arrayBuffer()),
        ...(response.headers.get("etag") ? { etag: response.headers.get("etag")! } : {}),
        ...(response.headers.get("last-modified") ? { lastModified: response.headers.get("last-modified")! } : {}),
        fetchedAt: now,
      }
    } catch (error) {
      ports.log.warn("web app origin unreachable", { url, error: error instanceof Error ? error.message : String(error) })
      return cached
    }
  }

  async function respond(request: Request, path: string, asset: CachedAsset): Promise<Response> {
    const headers = new Headers({ "Content-Type": asset.contentType })
    if (asset.etag) headers.set("ETag", asset.etag)
    if (asset.contentType.startsWith("text/html")) {
      headers.set("Content-Security-Policy", await contentSecurityPolicy(new TextDecoder().decode(asset.body)))
      headers.set("Cache-Control", "no-cache")
      // The page may be opened with credentials in its address (`?auth_token=`): its requests do not repeat them.
      headers.set("Referrer-Policy", "no-referrer")
    } else {
      // Files under /assets/ carry their content's hash in their name.
      headers.set("Cache-Control", path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "public, max-age=3600")
    }
    if (asset.etag && request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers })
    return new Response(request.method === "HEAD" ? null : asset.body, { status: asset.status, headers })
  }

  /** A file of the app (a name with an extension), as opposed to one of its pages. */
  export function isFile(path: string): boolean {
    return /\.[A-Za-z0-9]{1,16}$/.test(path.slice(path.lastIndexOf("/") + 1))
  }
}
