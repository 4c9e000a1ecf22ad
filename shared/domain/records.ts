import type { KeyValueStore } from "../ports.ts"
import { ConflictError } from "../error.ts"

/** Each lost swap means another writer succeeded, so this bounds only a storm of concurrent writers. */
const MAX_UPDATE_ATTEMPTS = 100

export namespace Records {
  /**
   * Replaces a record with `change(stored)` by compare-and-swap, so a concurrent writer's update is never lost:
   * when one lands between the read and the write, `change` runs again on what it left. 409 after 100 lost races.
   */
  export async function update<T>(records: KeyValueStore, key: string, change: (stored: T | undefined) => T): Promise<T> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const stored = await records.get<T>(key)
      const next = change(stored)
      if (await records.swap(key, stored, next)) return next
    }
    throw new ConflictError({ message: `${key} kept changing under ${MAX_UPDATE_ATTEMPTS} attempts to update it; try again` })
  }
}
