import { beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

type Listed = { id: string; title: string; parentID?: string; time: { updated: number } }
type WithParts = { info: { id: string }; parts: { messageID: string }[] }

const SESSIONS = 80
const MESSAGES = 150

/** Runs `count` calls of `task`, a few at a time (seeding through the API: it has no bulk path). */
async function inParallel<T>(count: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      results[index] = await task(index)
    }
  }
  await Promise.all(Array.from({ length: 12 }, worker))
  return results
}

const ids = (items: { id: string }[]) => items.map((item) => item.id)

/**
 * Paging through many sessions and messages: every page is a slice of the whole list in its order, so walking
 * the pages finds each item once, and filters apply before the limit.
 */
describe.each(targetKinds())("paging [%s]", (kind) => {
  const target = useTarget(kind)
  const directory = uniqueDirectory("paging")
  let all: Listed[] = []
  let created: string[] = []
  let long = ""
  let messageIDs: string[] = []

  const get = (path: string) => api(target(), "GET", path, { directory })

  beforeAll(async () => {
    const parent = await api(target(), "POST", "/session", { directory, body: { title: "parent" } })
    expect(parent.status, parent.text).toBe(200)
    const children = await inParallel(SESSIONS - 1, async (index) => {
      const title = index % 10 === 3 ? `Needle ${index}` : `session ${index}`
      const answer = await api(target(), "POST", "/session", { directory, body: { title, ...(index % 3 === 0 ? { parentID: parent.json.id } : {}) } })
      expect(answer.status, answer.text).toBe(200)
      return answer.json.id as string
    })
    created = [parent.json.id, ...children]
    long = created.at(-1)!
    messageIDs = await inParallel(MESSAGES, async (index) => {
      const answer = await api(target(), "POST", `/session/${long}/message`, { directory, body: { parts: [text(`message ${index}`)], noReply: true } })
      expect(answer.status, answer.text).toBe(200)
      return answer.json.info.id as string
    })
    messageIDs.sort()
    all = (await get("/session")).json
  }, 240_000)

  test("the whole list holds every session once, newest first", () => {
    expect(ids(all).sort()).toEqual([...created].sort())
    // session ids descend with creation time
    expect(ids(all)).toEqual([...ids(all)].sort())
  })

  test("limit, roots, search and start each give the first sessions of the whole list that pass", async () => {
    const cases: [string, (session: Listed) => boolean][] = [
      ["limit=25", () => true],
      ["roots=true&limit=10", (session) => !session.parentID],
      ["search=NEEDLE", (session) => session.title.toLowerCase().includes("needle")],
      ["search=needle&limit=3", (session) => session.title.includes("Needle")],
      ["roots=true&search=needle&limit=4", (session) => !session.parentID && session.title.includes("Needle")],
      [`start=${all[40]!.time.updated}`, (session) => session.time.updated >= all[40]!.time.updated],
    ]
    for (const [query, passes] of cases) {
      const limit = Number(/limit=(\d+)/.exec(query)?.[1] ?? Infinity)
      const answer = await get(`/session?${query}`)
      expect(answer.status, answer.text).toBe(200)
      expect(ids(answer.json), query).toEqual(ids(all.filter(passes).slice(0, limit)))
    }
  })

  test("the v2 list walks forward and back by cursor without a duplicate or a gap", async () => {
    const whole = await get(`/api/session?directory=${encodeURIComponent(directory)}&limit=10000`)
    expect(whole.status, whole.text).toBe(200)
    expect(ids(whole.json.data).sort()).toEqual([...created].sort())
    const pages: string[][] = []
    let cursor: string | undefined
    do {
      const answer = await get(`/api/session?directory=${encodeURIComponent(directory)}&limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
      expect(answer.status, answer.text).toBe(200)
      pages.push(ids(answer.json.data))
      cursor = answer.json.cursor.next
    } while (cursor)
    expect(pages.flat()).toEqual(ids(whole.json.data))
    expect(pages.length).toBe(Math.ceil(SESSIONS / 25))
  })

  test("messages page backwards by x-next-cursor, each page oldest first, until none is left", async () => {
    const pages: string[][] = []
    let before: string | null = null
    do {
      const answer = await get(`/session/${long}/message?limit=40${before ? `&before=${before}` : ""}`)
      expect(answer.status, answer.text).toBe(200)
      const page = answer.json as WithParts[]
      for (const message of page) expect(message.parts.every((part) => part.messageID === message.info.id)).toBe(true)
      pages.push(ids(page.map((message) => message.info)))
      before = answer.headers.get("x-next-cursor")
      if (before) expect(answer.headers.get("link")).toContain(`before=${before}`)
    } while (before)
    expect(pages.length).toBe(Math.ceil(MESSAGES / 40))
    expect(pages.reverse().flat()).toEqual(messageIDs)
  })

  test("a page that reaches the first message has no cursor; a bad cursor is a BadRequest", async () => {
    const exact = await get(`/session/${long}/message?limit=${MESSAGES}`)
    expect(ids(exact.json.map((message: WithParts) => message.info))).toEqual(messageIDs)
    expect(exact.headers.get("x-next-cursor")).toBeNull()
    const unlimited = await get(`/session/${long}/message`)
    expect(unlimited.json).toHaveLength(MESSAGES)
    expect(unlimited.headers.get("x-next-cursor")).toBeNull()
    // a message id is taken as the cursor of the message it names
    const byID = await get(`/session/${long}/message?limit=5&before=${messageIDs[100]}`)
    expect(ids(byID.json.map((message: WithParts) => message.info))).toEqual(messageIDs.slice(95, 100))
    expectNamedError(await get(`/session/${long}/message?limit=5&before=not-a-cursor`), 400, "BadRequest")
  })
})
