/**
 * Requests per second per tenant, counted in this isolate: no Durable Object round trip on the hot path. A
 * tenant spread over n isolates may reach up to n times the limit; Cloudflare keeps a client's requests on few
 * isolates, so the bound holds roughly, and it is there to stop floods, not to meter.
 */
export class RateBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly perSecond: number,
    private readonly maxTenants = 10_000,
  ) {}

  /** Takes one request's token; when there is none, how long until there is. */
  take(tenant: string, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    let bucket = this.buckets.get(tenant)
    if (!bucket) {
      if (this.buckets.size >= this.maxTenants) this.buckets.delete(this.buckets.keys().next().value!)
      bucket = { tokens: this.perSecond, at: now }
      this.buckets.set(tenant, bucket)
    }
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterMs: ((1 - bucket.tokens) / this.perSecond) * 1000 }
  }
}
