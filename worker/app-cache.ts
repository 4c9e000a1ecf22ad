import type { AppAssetCache, CachedAsset } from "../shared/webapp/cache.ts"

/** How long the edge's cache may keep a file of the web app (it is revalidated long before). */
const KEEP_SECONDS = 7 * 24 * 3600

/**
 * The web app's files in the Cache API of the colo (shared by every Worker there), under made-up request URLs;
 * what revalidation needs travels in headers.
 */
export function cacheApiAssetCache(): AppAssetCache {
  const requestFor = (key: string) => new Request(`https://opencode-web-app.cache/${encodeURIComponent(key)}`)
  return {
    async get(key) {
      const response = await caches.default.match(requestFor(key))
      if (!response) return undefined
      const asset: CachedAsset = {
        status: Number(response.headers.get("x-asset-status") ?? 200),
        contentType: response.headers.get("content-type") ?? "application/octet-stream",
        body: new Uint8Array(await response.arrayBuffer()),
        fetchedAt: Number(response.headers.get("x-asset-fetched-at") ?? 0),
      }
      const etag = response.headers.get("x-asset-etag")
      const lastModified = response.headers.get("x-asset-last-modified")
      return { ...asset, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) }
    },
    async put(key, asset) {
      const headers = new Headers({
        "Content-Type": asset.contentType,
        "Cache-Control": `public, max-age=${KEEP_SECONDS}`,
        "x-asset-status": String(asset.status),
        "x-asset-fetched-at": String(asset.fetchedAt),
      })
      if (asset.etag) headers.set("x-asset-etag", asset.etag)
      if (asset.lastModified) headers.set("x-asset-last-modified", asset.lastModified)
      await caches.default.put(requestFor(key), new Response(asset.body, { headers }))
    },
  }
}
