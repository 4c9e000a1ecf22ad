import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { openStore } from "../../local-agent/store/index.ts"

const directories: string[] = []
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true })
})

async function store() {
  const directory = await mkdtemp(join(tmpdir(), "oc-records-test-"))
  directories.push(directory)
  return { directory, store: await openStore(directory) }
}

/** The local KeyValueStore decides each write on what the previous write to the key left, not on what is on disk yet. */
describe("local record store: swap and delete against writes in flight", () => {
  test("of concurrent swaps from the same value exactly one wins; the winner is durable", async () => {
    const { directory, store: first } = await store()
    await first.records.put("k", { n: 0 })
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => first.records.swap("k", { n: 0 }, { n: n + 1 })))
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = results.indexOf(true) + 1
    expect(await first.records.get("k")).toEqual({ n: winner })
    await first.close()
    const reopened = await openStore(directory)
    expect(await reopened.records.get("k")).toEqual({ n: winner })
    await reopened.close()
  })

  test("a swap issued behind a put still in flight compares against the put's value", async () => {
    const { store: s } = await store()
    const put = s.records.put("k", "new")
    expect(await s.records.swap("k", undefined, "stale")).toBe(false)
    await put
    expect(await s.records.swap("k", "new", "next")).toBe(true)
    expect(await s.records.get("k")).toBe("next")
    await s.close()
  })

  test("of concurrent deletes exactly one reports that it removed the record", async () => {
    const { store: s } = await store()
    await s.records.put("k", 1)
    expect((await Promise.all([s.records.delete("k"), s.records.delete("k"), s.records.delete("k")])).filter(Boolean)).toHaveLength(1)
    expect(await s.records.get("k")).toBeUndefined()
    await s.close()
  })
})
