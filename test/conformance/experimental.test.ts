import { describe, expect, test } from "vitest"
import { api, expectNamedError, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

describe.each(targetKinds())("what the terminal client asks at start [%s]", (kind) => {
  const target = useTarget(kind)

  test("experimental routes answer truthfully: no background subagents, console, workspaces, and no resources without MCP servers", async () => {
    const directory = uniqueDirectory("experimental")
    const get = (path: string) => api(target(), "GET", path, { directory })
    expect((await get("/experimental/capabilities")).json).toEqual({ backgroundSubagents: false })
    expect((await get("/experimental/console")).json).toEqual({ consoleManagedProviders: [], switchableOrgCount: 0 })
    expect((await get("/experimental/resource")).json).toEqual({})
    expect((await get("/experimental/workspace")).json).toEqual([])
    expect((await get("/experimental/workspace/status")).json).toEqual([])
  })

  test("a project's directories, and 404 for an unknown project", async () => {
    const directory = uniqueDirectory("directories")
    const project = (await api(target(), "GET", "/project/current", { directory })).json
    const directories = await api(target(), "GET", `/project/${project.id}/directories`, { directory })
    expect(directories.json).toEqual([{ directory: project.worktree }])
    expectNamedError(await api(target(), "GET", "/project/no-such-project/directories", { directory }), 404, "NotFoundError")
  })

  test("/api lists answer {location, data}, located by ?location[directory]=; /api/agent lists the agents", async () => {
    const directory = uniqueDirectory("api")
    const location = (await api(target(), "GET", `/api/location?location[directory]=${encodeURIComponent(directory)}`)).json
    expect(location).toEqual({ directory, project: { id: expect.any(String), directory: expect.any(String) } })
    // Only upstream's built-in commands, as upstream 1.18 lists them (app-info.test.ts lists configured ones).
    const commands = (await api(target(), "GET", `/api/command?location[directory]=${encodeURIComponent(directory)}`)).json
    expect(commands.location).toEqual(location)
    expect(commands.data.map((command: { name: string }) => command.name)).toEqual(["init", "review"])
    // Empty here: this target's config has no providers.
    for (const list of ["reference", "provider", "model", "integration"]) {
      const response = await api(target(), "GET", `/api/${list}?location[directory]=${encodeURIComponent(directory)}`)
      expect(response.json, list).toEqual({ location, data: [] })
    }
    // Skills live on the machine: the built-in one where there is a machine, none on the edge without one (skills.test.ts lists found ones).
    const skills = (await api(target(), "GET", `/api/skill?location[directory]=${encodeURIComponent(directory)}`)).json
    expect(skills.location).toEqual(location)
    expect(skills.data.map((skill: { name: string }) => skill.name)).toEqual(kind === "local" ? ["customize-opencode"] : [])
    const v1 = (await api(target(), "GET", "/skill", { directory })).json as { name: string }[]
    expect(v1.map((skill) => skill.name)).toEqual(kind === "local" ? ["customize-opencode"] : [])
    // the agents, in the v2 shape (AgentV2Info); config agents are checked in app-info.test.ts
    const agents = (await api(target(), "GET", `/api/agent?location[directory]=${encodeURIComponent(directory)}`)).json
    expect(agents.location).toEqual(location)
    const byID = new Map((agents.data as Array<Record<string, any>>).map((agent) => [agent.id, agent]))
    expect(byID.get("build")).toMatchObject({ mode: "primary", hidden: false, request: { headers: {}, body: {} }, description: expect.any(String) })
    expect(byID.get("general")).toMatchObject({ mode: "subagent", hidden: false })
    expect(byID.get("plan")!.permissions).toContainEqual({ action: "edit", resource: "*", effect: "deny" })
    for (const agent of byID.values()) {
      for (const rule of agent.permissions) expect(rule).toEqual({ action: expect.any(String), resource: expect.any(String), effect: expect.stringMatching(/^(allow|deny|ask)$/) })
    }
  })

  test("what the web app asks on its first screen: /api/health, /global/config, /api/session paged by cursor", async () => {
    expect((await api(target(), "GET", "/api/health")).json).toEqual({ healthy: true })
    const patched = await api(target(), "PATCH", "/global/config", { body: { username: "web-user" } })
    expect(patched.status, patched.text).toBe(200)
    expect((await api(target(), "GET", "/global/config")).json).toMatchObject({ username: "web-user" })

    const directory = uniqueDirectory("api-session")
    const ids: string[] = []
    for (const title of ["one", "two", "three"]) ids.push((await api(target(), "POST", "/session", { directory, body: { title } })).json.id)
    const first = (await api(target(), "GET", `/api/session?limit=2&directory=${encodeURIComponent(directory)}`)).json
    expect(first.data.map((s: { title: string }) => s.title)).toEqual(["three", "two"])
    expect(first.data[0]).toMatchObject({ id: ids[2], location: { directory }, cost: 0, tokens: { input: 0 }, time: { created: expect.any(Number) } })
    expect(first.cursor.previous).toBeUndefined()
    const second = (await api(target(), "GET", `/api/session?limit=2&directory=${encodeURIComponent(directory)}&cursor=${encodeURIComponent(first.cursor.next)}`)).json
    expect(second.data.map((s: { title: string }) => s.title)).toEqual(["one"])
    expect(second.cursor.next).toBeUndefined()
    expect(second.cursor.previous).toBeDefined()
    const ascending = (await api(target(), "GET", `/api/session?order=asc&directory=${encodeURIComponent(directory)}`)).json
    expect(ascending.data.map((s: { title: string }) => s.title)).toEqual(["one", "two", "three"])
    expectNamedError(await api(target(), "GET", "/api/session?cursor=garbage"), 400, "BadRequest")
  })
})
