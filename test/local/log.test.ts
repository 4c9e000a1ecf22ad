import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { DurableLog } from "../../local-agent/store/log.ts"

type Record = { key: string; value: number }

const directories: string[] = []
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true })
})

async function logPath() {
  const directory = await mkdtemp(join(tmpdir(), "oc-log-test-"))
  directories.push(directory)
  return join(directory, "state.log")
}

/** Opens the log and returns it with the records it replayed (and applies later ones to the same list). */
async function openLog(path: string, compactAfterBytes?: number) {
  const applied: Record[] = []
  const state = new Map<string, number>()
  const log = await DurableLog.open<Record>(path, {
    apply: (record) => {
      applied.push(record)
      state.set(record.key, record.value)
    },
    snapshot: () => [...state].map(([key, value]) => ({ key, value })),
    ...(compactAfterBytes !== undefined ? { compactAfterBytes } : {}),
  })
  return { log, applied, state }
}

describe("DurableLog (local-agent/store/log.ts)", () => {
  test("records survive a reopen", async () => {
    const path = await logPath()
    const first = await openLog(path)
    for (let i = 0; i < 5; i++) await first.log.append({ key: `k${i}`, value: i })
    await first.log.close()
    const second = await openLog(path)
    expect(second.applied).toEqual([0, 1, 2, 3, 4].map((i) => ({ key: `k${i}`, value: i })))
    await second.log.close()
  })

  test("a torn tail (no newline) is cut off on open; earlier records survive and appends continue", async () => {
    const path = await logPath()
    const first = await openLog(path)
    for (let i = 0; i < 3; i++) await first.log.append({ key: `k${i}`, value: i })
    await first.log.close()
    const intact = (await stat(path)).size
    // what a kill -9 in the middle of a write leaves behind
    await appendFile(path, '1234abcd\t{"key":"half-writ')

    const second = await openLog(path)
    expect(second.applied.map((r) => r.key)).toEqual(["k0", "k1", "k2"])
    expect((await stat(path)).size).toBe(intact)
    await second.log.append({ key: "k3", value: 3 })
    await second.log.close()

    const third = await openLog(path)
    expect(third.applied.map((r) => r.key)).toEqual(["k0", "k1", "k2", "k3"])
    await third.log.close()
  })

  test("a corrupted line (bad checksum) ends the log there; the records before it survive", async () => {
    const path = await logPath()
    const first = await openLog(path)
    for (let i = 0; i < 4; i++) await first.log.append({ key: `k${i}`, value: i })
    await first.log.close()

    const lines = (await readFile(path, "utf8")).split("\n")
    // flip a digit inside the third record's JSON so its checksum no longer matches
    lines[2] = lines[2]!.replace('"value":2', '"value":7')
    await writeFile(path, lines.join("\n"))

    const second = await openLog(path)
    expect(second.applied.map((r) => r.key)).toEqual(["k0", "k1"])
    await second.log.append({ key: "after", value: 9 })
    await second.log.close()
    const third = await openLog(path)
    expect(third.applied.map((r) => r.key)).toEqual(["k0", "k1", "after"])
    await third.log.close()
  })

  test("garbage that is not a record at all is cut off", async () => {
    const path = await logPath()
    const first = await openLog(path)
    await first.log.append({ key: "only", value: 1 })
    await first.log.close()
    await appendFile(path, Buffer.from([0, 0, 0, 0xff, 0xfe, 10, 65, 66, 10]))
    const second = await openLog(path)
    expect(second.applied).toEqual([{ key: "only", value: 1 }])
    await second.log.close()
  })

  test("an append made as soon as the previous one is acknowledged is written too", async () => {
    const path = await logPath()
    const { log } = await openLog(path)
    // each append starts from the previous one's acknowledgement (the race of a caller resuming on it)
    for (let i = 0; i < 50; i++) await log.append({ key: `seq${i}`, value: i })
    // and many at once share syncs
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append({ key: `burst${i}`, value: i })))
    await log.close()
    const reopened = await openLog(path)
    expect(reopened.applied).toHaveLength(250)
    await reopened.log.close()
  })

  test("compaction keeps the state", async () => {
    const path = await logPath()
    const first = await openLog(path, 2_000)
    for (let i = 0; i < 400; i++) await first.log.append({ key: `k${i % 10}`, value: i })
    await first.log.close()
    expect((await stat(path)).size).toBeLessThan(400 * 30)
    const second = await openLog(path, 2_000)
    expect(Object.fromEntries(second.state)).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`k${k}`, 390 + k])))
    await second.log.close()
  })
})
