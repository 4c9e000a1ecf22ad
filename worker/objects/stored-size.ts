/**
 * The stored bytes of a tenant's objects, as each reported its SQLite size last (the GlobalObject's own is read
 * live). Reports come after writes, at most one a second per object, so the sum lags writes by about that much.
 */
export class StoredSizes {
  static readonly TABLE = "CREATE TABLE IF NOT EXISTS stored_size (object TEXT PRIMARY KEY, bytes INTEGER NOT NULL);"

  constructor(private readonly sql: SqlStorage) {}

  record(object: string, bytes: number): void {
    this.sql.exec("INSERT OR REPLACE INTO stored_size (object, bytes) VALUES (?, ?)", object, bytes)
  }

  total(): number {
    return this.sql.exec<{ n: number | null }>("SELECT sum(bytes) AS n FROM stored_size").one().n ?? 0
  }
}
