import { describe, expect, test } from "vitest"
import { api, until, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

/**
 * `GET /experimental/session`: sessions across projects, as the app's command palette searches them. Sessions
 * are kept by directory; these live in directories no request names, so the list finds them by itself.
 */
describe.each(targetKinds())("sessions across projects [%s]", (kind) => {
  const target = useTarget(kind)

  async function create(directory: string, body: Record<string, unknown>): Promise<{ id: string; time: { updated: number } }> {
    const created = await api(target(), "POST", "/session", { directory, body })
    expect(created.status, created.text).toBe(200)
    // pages are cut by update time (upstream's cursor is a time): each session gets a millisecond of its own
    await until(() => (Date.now() > created.json.time.updated ? true : undefined))
    return created.json
  }

  const list = (query: string, directory?: string) => api(target(), "GET", `/experimental/session${query}`, directory ? { directory } : {})
  const titles = (sessions: { title: string }[]) => sessions.map((session) => session.title)

  test("filters by title, roots and archived, pages by update time, and names each session's project", async () => {
    const here = uniqueDirectory("here")
    const there = uniqueDirectory("there")
    const marker = `zq${Math.random().toString(36).slice(2, 8)}`
    const parent = await create(here, { title: `${marker} Parent plan` })
    await create(here, { title: `${marker} child step`, parentID: parent.id })
    await create(there, { title: `${marker} Other PLAN` })
    const archived = await create(there, { title: `${marker} old plan` })
    expect((await api(target(), "PATCH", `/session/${archived.id}`, { body: { time: { archived: Date.now() } } })).status).toBe(200)

    const all = await list(`?search=${marker.toUpperCase()}`)
    expect(all.status, all.text).toBe(200)
    expect(titles(all.json).sort()).toEqual([`${marker} Other PLAN`, `${marker} Parent plan`, `${marker} child step`])
    for (const session of all.json) {
      expect(session.project).toEqual({ id: session.projectID, worktree: expect.any(String) })
    }
    // most recently updated first
    const updated = all.json.map((session: { time: { updated: number } }) => session.time.updated)
    expect(updated).toEqual([...updated].sort((a, b) => b - a))

    expect(titles((await list(`?search=${marker}&roots=true`)).json).sort()).toEqual([`${marker} Other PLAN`, `${marker} Parent plan`])
    expect(titles((await list(`?search=${marker}&archived=true`)).json)).toContain(`${marker} old plan`)
    expect(titles((await list(`?search=${marker}`, there)).json).filter((title) => title.startsWith(marker))).toEqual([`${marker} Other PLAN`])

    // one at a time: x-next-cursor asks for the rest
    const seen: string[] = []
    let cursor = ""
    for (let page = 0; page < 5; page++) {
      const response = await list(`?search=${marker}&limit=1${cursor}`)
      seen.push(...titles(response.json))
      const next = response.headers.get("x-next-cursor")
      if (!next) break
      cursor = `&cursor=${next}`
    }
    expect(seen.length).toBe(3)
    expect(new Set(seen)).toEqual(new Set(titles(all.json)))
  })

  test("a malformed query is 400 BadRequest", async () => {
    for (const query of ["?limit=0", "?roots=maybe", "?cursor=soon"]) {
      const response = await list(query)
      expect({ query, status: response.status, name: response.json?.name }).toEqual({ query, status: 400, name: "BadRequest" })
    }
  })

  test("the OpenAPI document has the route with upstream's operationId", async () => {
    const doc = (await api(target(), "GET", "/doc")).json
    expect(doc.paths["/experimental/session"]?.get?.operationId).toBe("experimental.session.list")
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(expect.arrayContaining(["GlobalSession", "ProjectSummary"]))
  })
})
