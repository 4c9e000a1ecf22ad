/** One file of the web app as fetched from its origin, with what revalidating it needs. */
export interface CachedAsset {
  status: number
  contentType: string
  body: Uint8Array
  etag?: string
  lastModified?: string
  /** When the origin last confirmed it (epoch ms). */
  fetchedAt: number
}

/** Where the web app's files are kept between requests: memory on the local agent, the Cache API on the edge. */
export interface AppAssetCache {
  get(key: string): Promise<CachedAsset | undefined>
  put(key: string, asset: CachedAsset): Promise<void>
}

/** An in-memory cache bounded in bytes; the least recently used files go first. */
export function memoryAssetCache(maxBytes = 64 * 1024 * 1024): AppAssetCache {
  const entries = new Map<string, CachedAsset>()
  let bytes = 0
  return {
    async get(key) {
      const asset = entries.get(key)
      if (asset) {
        entries.delete(key)
        entries.set(key, asset)
      }
      return asset
    },
    async put(key, asset) {
      const previous = entries.get(key)
      if (previous) bytes -= previous.body.byteLength
      entries.delete(key)
      if (asset.body.byteLength > maxBytes) return
      entries.set(key, asset)
      bytes += asset.body.byteLength
      for (const [oldest, old] of entries) {
        if (bytes <= maxBytes) break
        entries.delete(oldest)
        bytes -= old.body.byteLength
      }
    },
  }
}
