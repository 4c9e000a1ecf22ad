/** What a lease is for; each kind has its own limit. */
export type LeaseKind = "stream" | "turn" | "terminal"

export type LeaseResult = { ok: true; fresh: boolean } | { ok: false; retryAfterMs: number | undefined }

/**
 * A tenant's leases, in its GlobalObject's SQLite: one row per open stream, running turn or terminal. A lease
 * with an expiry is renewed by whoever holds it and lapses if its holder dies; one without (a terminal) is
 * released on close and checked against the machine when the limit is reached. Every call runs without awaiting,
 * so the count and the insert are one step (the object's input gate).
 */
export class Leases {
  static readonly TABLE = "CREATE TABLE IF NOT EXISTS lease (kind TEXT NOT NULL, id TEXT NOT NULL, expires INTEGER, PRIMARY KEY (kind, id));"

  constructor(private readonly sql: SqlStorage) {}

  /** Takes (or renews) the lease `id` if fewer than `limit` others are held; a held one always renews. */
  acquire(kind: LeaseKind, id: string, limit: number, ttlMs: number | undefined, now = Date.now()): LeaseResult {
    this.sql.exec("DELETE FROM lease WHERE kind = ? AND expires IS NOT NULL AND expires <= ?", kind, now)
    const held = this.sql.exec("SELECT 1 FROM lease WHERE kind = ? AND id = ?", kind, id).toArray().length > 0
    if (!held) {
      const count = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM lease WHERE kind = ?", kind).one().n
      if (count >= limit) {
        const soonest = this.sql.exec<{ t: number | null }>("SELECT min(expires) AS t FROM lease WHERE kind = ?", kind).one().t
        return { ok: false, retryAfterMs: soonest === null ? undefined : soonest - now }
      }
    }
    this.renew(kind, id, ttlMs, now)
    return { ok: true, fresh: !held }
  }

  /** Keeps a lease its holder still uses (re-taking it if it had lapsed, whatever the count: it is in use). */
  renew(kind: LeaseKind, id: string, ttlMs: number | undefined, now = Date.now()): void {
    const expires = ttlMs === undefined ? null : now + ttlMs
    this.sql.exec("INSERT OR REPLACE INTO lease (kind, id, expires) VALUES (?, ?, ?)", kind, id, expires)
  }

  release(kind: LeaseKind, id: string): void {
    this.sql.exec("DELETE FROM lease WHERE kind = ? AND id = ?", kind, id)
  }

  held(kind: LeaseKind, now = Date.now()): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM lease WHERE kind = ? AND (expires IS NULL OR expires > ?) ORDER BY id", kind, now)
      .toArray()
      .map((row) => row.id)
  }
}
