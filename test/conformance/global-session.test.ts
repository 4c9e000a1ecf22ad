import { describe, expect, test } from "vitest"
import { api, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

describe.each(targetKinds())("sessions across projects, as the web app's palette searches them [%s]", (kind) => {
  const target = useTarget(kind)

  test("GET /experimental/session: newest update first, each with its project; search, roots, archived, and pages by x-next-cursor", async () => {
    const directory = uniqueDirectory("global-sessions")
    const create = async (body: Record<string, unknown>) => (await api(target(), "POST", "/session", { directory, body })).json
    const first = await create({ title: "palette alpha" })
    const second = await create({ title: "palette beta" })
    const child = await create({ title: "palette child", parentID: first.id })
    const archived = await create({ title: "palette archived" })
    await create({ title: "unrelated" })
    const archiving = await api(target(), "PATCH", `/session/${archived.id}`, { directory, body: { time: { archived: Date.now() } } })
    expect(archiving.status, archiving.text).toBe(200)
    const list = async (query: string) => {
      const response = await api(target(), "GET", `/experimental/session?search=palette${query}`, { directory })
      expect(response.status, response.text).toBe(200)
      return response
    }

    const all = (await list("")).json
    expect(new Set(all.map((session: { id: string }) => session.id))).toEqual(new Set([first.id, second.id, child.id]))
    const updated = all.map((session: { time: { updated: number } }) => session.time.updated)
    expect(updated).toEqual([...updated].sort((a, b) => b - a))
    const project = (await api(target(), "GET", "/project/current", { directory })).json
    for (const session of all) expect(session.project).toEqual({ id: project.id, worktree: project.worktree, ...(project.name ? { name: project.name } : {}) })
    expect(all.find((session: { id: string }) => session.id === second.id)).toMatchObject({ ...second, time: { created: second.time.created } })

    expect((await list("&roots=true")).json.map((session: { id: string }) => session.id).sort()).toEqual([first.id, second.id].sort())
    expect((await list("&archived=true")).json.map((session: { id: string }) => session.id)).toContain(archived.id)

    const firstPage = await list("&limit=2")
    expect(firstPage.json).toEqual(all.slice(0, 2))
    const cursor = firstPage.headers.get("x-next-cursor")
    expect(cursor).toBe(String(all[1].time.updated))
    const secondPage = await list(`&limit=2&cursor=${cursor}`)
    expect(secondPage.json).toEqual(all.filter((session: { time: { updated: number } }) => session.time.updated < Number(cursor)))
    expect(secondPage.headers.get("x-next-cursor")).toBeNull()
  })
})
