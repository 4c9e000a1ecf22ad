import { execFileSync } from "node:child_process"
import { mkdtempSync, realpathSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import type { Session } from "@opencode-ai/sdk/client"
import { api, expectNamedError, sdk, text, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

describe.each(targetKinds())("session life cycle [%s]", (kind) => {
  const target = useTarget(kind)

  async function list(directory: string, query: Record<string, string> = {}): Promise<Session[]> {
    const search = new URLSearchParams(query).toString()
    const response = await api(target(), "GET", `/session${search ? `?${search}` : ""}`, { directory })
    expect(response.status, response.text).toBe(200)
    return response.json
  }

  test("create, get and list through the SDK", async () => {
    const directory = uniqueDirectory("lifecycle")
    const client = sdk(target(), directory)
    const created = await client.session.create({ body: { title: "first" } })
    expect(created.response.status).toBe(200)
    const session = created.data!
    expect(session).toMatchObject({ title: "first", directory, version: expect.any(String) })
    expect(session.id).toMatch(/^ses_/)
    expect(typeof session.projectID).toBe("string")
    expect(session.time.created).toBeTypeOf("number")
    expect(session.time.updated).toBeGreaterThanOrEqual(session.time.created)
    expect(session.parentID).toBeUndefined()

    const fetched = await client.session.get({ path: { id: session.id } })
    expect(fetched.response.status).toBe(200)
    expect(fetched.data).toEqual(session)

    const listed = await client.session.list()
    expect(listed.data).toEqual([session])

    // A session created without a title gets a default one.
    const untitled = (await client.session.create({ body: {} })).data!
    expect(untitled.title.length).toBeGreaterThan(0)
  })

  test("list is newest first and honours roots, start, search, limit and path", async () => {
    const directory = uniqueDirectory("listing")
    const client = sdk(target(), directory)
    const alpha = (await client.session.create({ body: { title: "Alpha report" } })).data!
    const child = (await client.session.create({ body: { title: "beta child", parentID: alpha.id } })).data!
    const gamma = (await client.session.create({ body: { title: "Gamma notes" } })).data!
    expect(child.parentID).toBe(alpha.id)

    const all = await list(directory)
    expect(all.map((s) => s.id)).toEqual([gamma.id, child.id, alpha.id])

    expect((await list(directory, { roots: "true" })).map((s) => s.id)).toEqual([gamma.id, alpha.id])
    expect((await list(directory, { roots: "false" })).map((s) => s.id)).toEqual([gamma.id, child.id, alpha.id])

    // search is a case-insensitive substring of the title
    expect((await list(directory, { search: "REPORT" })).map((s) => s.id)).toEqual([alpha.id])
    expect((await list(directory, { search: "no such title" })).map((s) => s.id)).toEqual([])

    expect((await list(directory, { limit: "1" })).map((s) => s.id)).toEqual([gamma.id])
    expect((await list(directory, { limit: "2", roots: "true" })).map((s) => s.id)).toEqual([gamma.id, alpha.id])

    // start keeps sessions updated at or after it
    const start = gamma.time.updated
    expect((await list(directory, { start: String(start) })).map((s) => s.id)).toEqual(
      all.filter((s) => s.time.updated >= start).map((s) => s.id),
    )
    expect(await list(directory, { start: String(Math.max(...all.map((s) => s.time.updated)) + 60_000) })).toEqual([])
    expect((await list(directory, { start: "0" })).length).toBe(3)

    // path: the session's own path lists it; a path it is not under does not
    const alphaPath = (await list(directory)).find((s) => s.id === alpha.id) as Session & { path?: string }
    expect((await list(directory, { path: alphaPath.path ?? "" })).map((s) => s.id)).toEqual([gamma.id, child.id, alpha.id])
    expect(await list(directory, { path: "no/such/sub/directory" })).toEqual([])

    // another directory's sessions are not listed
    expect(await list(uniqueDirectory("empty"))).toEqual([])

    // query validation: a non-numeric limit is a 400
    const bad = await api(target(), "GET", "/session?limit=lots", { directory })
    expectNamedError(bad, 400, "BadRequest")
  })

  test("search matches titles as upstream's SQLite LIKE: ASCII letters in any case, % and _ as wildcards, a renamed session by its new title", async () => {
    const directory = uniqueDirectory("search")
    const client = sdk(target(), directory)
    for (const title of ["Weekly Report", "ÉCOLE straße", "100% done", "a_b file", "axb file", "İstanbul", "renamed-old"]) {
      await client.session.create({ body: { title } })
    }
    const renamed = (await list(directory, { search: "renamed-old" }))[0]!
    expect((await client.session.update({ path: { id: renamed.id }, body: { title: "brand new" } })).response.status).toBe(200)
    const titles = async (search: string, query: Record<string, string> = {}) => (await list(directory, { search, ...query })).map((s) => s.title)

    // What upstream opencode serve 1.18.33 answered for the same titles and searches.
    expect(await titles("REPORT")).toEqual(["Weekly Report"])
    expect(await titles("ÉCOLE")).toEqual(["ÉCOLE straße"])
    expect(await titles("école")).toEqual([])
    expect(await titles("STRAßE")).toEqual(["ÉCOLE straße"])
    expect(await titles("STRASSE")).toEqual([])
    expect(await titles("İSTANBUL")).toEqual(["İstanbul"])
    expect(await titles("istanbul")).toEqual([])
    expect(await titles("100%")).toEqual(["100% done"])
    expect(await titles("a_b")).toEqual(["İstanbul", "axb file", "a_b file"])
    expect(await titles("%")).toEqual(["brand new", "İstanbul", "axb file", "a_b file", "100% done", "ÉCOLE straße", "Weekly Report"])
    expect(await titles(" ")).toEqual(["brand new", "axb file", "a_b file", "100% done", "ÉCOLE straße", "Weekly Report"])
    expect(await titles("old")).toEqual([])
    expect(await titles("NEW")).toEqual(["brand new"])
    expect(await titles("file", { limit: "1" })).toEqual(["axb file"])
    const page = await api(target(), "GET", `/api/session?search=${encodeURIComponent("FILE")}`, { directory })
    expect(page.json.data.map((s: Session) => s.title)).toEqual(["axb file", "a_b file"])
  })
  test("update title, children, abort", async () => {
    const directory = uniqueDirectory("update")
    const client = sdk(target(), directory)
    const parent = (await client.session.create({ body: { title: "parent" } })).data!
    const updated = await client.session.update({ path: { id: parent.id }, body: { title: "renamed" } })
    expect(updated.response.status).toBe(200)
    expect(updated.data).toMatchObject({ id: parent.id, title: "renamed" })
    expect(updated.data!.time.updated).toBeGreaterThanOrEqual(parent.time.updated)
    expect((await client.session.get({ path: { id: parent.id } })).data!.title).toBe("renamed")

    expect((await client.session.children({ path: { id: parent.id } })).data).toEqual([])
    const first = (await client.session.create({ body: { parentID: parent.id, title: "one" } })).data!
    const second = (await client.session.create({ body: { parentID: parent.id, title: "two" } })).data!
    const children = (await client.session.children({ path: { id: parent.id } })).data!
    expect(children.map((s) => s.id).sort()).toEqual([first.id, second.id].sort())
    expect(children.every((s) => s.parentID === parent.id)).toBe(true)

    const aborted = await client.session.abort({ path: { id: parent.id } })
    expect(aborted.response.status).toBe(200)
    expect(aborted.data).toBe(true)
  })

  test("fork copies the messages, all of them or those before messageID", async () => {
    const directory = uniqueDirectory("fork")
    const client = sdk(target(), directory)
    const source = (await client.session.create({ body: { title: "source" } })).data!
    const texts = ["one", "two", "three"]
    const messageIDs: string[] = []
    for (const value of texts) {
      const sent = await client.session.prompt({ path: { id: source.id }, body: { parts: [text(value)], noReply: true } })
      expect(sent.response.status).toBe(200)
      messageIDs.push(sent.data!.info.id)
    }

    const whole = await client.session.fork({ path: { id: source.id }, body: {} })
    expect(whole.response.status).toBe(200)
    const forked = whole.data!
    expect(forked.id).not.toBe(source.id)
    expect(forked.title).toBe("source (fork #1)")
    expect(forked.directory).toBe(directory)
    const copied = (await client.session.messages({ path: { id: forked.id } })).data!
    expect(copied.map((m) => m.parts.map((p) => (p.type === "text" ? p.text : p.type)))).toEqual(texts.map((t) => [t]))
    for (const message of copied) {
      expect(messageIDs).not.toContain(message.info.id)
      expect(message.info.sessionID).toBe(forked.id)
      for (const part of message.parts) expect(part).toMatchObject({ sessionID: forked.id, messageID: message.info.id })
    }

    const partial = await client.session.fork({ path: { id: source.id }, body: { messageID: messageIDs[2]! } })
    expect(partial.response.status).toBe(200)
    const partialMessages = (await client.session.messages({ path: { id: partial.data!.id } })).data!
    expect(partialMessages.map((m) => m.parts.map((p) => (p.type === "text" ? p.text : p.type)))).toEqual([["one"], ["two"]])

    // the source is untouched
    expect((await client.session.messages({ path: { id: source.id } })).data!.map((m) => m.info.id)).toEqual(messageIDs)

    // forking at a message the session does not have is a 404
    const missing = await api(target(), "POST", `/session/${source.id}/fork`, {
      directory,
      body: { messageID: "msg_000000000000nonexistent00" },
    })
    expectNamedError(missing, 404, "NotFoundError")
  })

  test("delete removes the session and its children; then 404", async () => {
    const directory = uniqueDirectory("delete")
    const client = sdk(target(), directory)
    const parent = (await client.session.create({ body: { title: "doomed" } })).data!
    const child = (await client.session.create({ body: { parentID: parent.id } })).data!
    const grandchild = (await client.session.create({ body: { parentID: child.id } })).data!
    const keeper = (await client.session.create({ body: { title: "keeper" } })).data!
    const message = (
      await client.session.prompt({ path: { id: parent.id }, body: { parts: [text("bye")], noReply: true } })
    ).data!

    const deleted = await client.session.delete({ path: { id: parent.id } })
    expect(deleted.response.status).toBe(200)
    expect(deleted.data).toBe(true)

    for (const id of [parent.id, child.id, grandchild.id]) {
      const response = await api(target(), "GET", `/session/${id}`, { directory })
      expectNamedError(response, 404, "NotFoundError")
    }
    expect((await list(directory)).map((s) => s.id)).toEqual([keeper.id])
    expectNamedError(await api(target(), "GET", `/session/${parent.id}/message`), 404, "NotFoundError")
    expectNamedError(await api(target(), "GET", `/message/${message.info.id}`), 404, "NotFoundError")
    expectNamedError(await api(target(), "DELETE", `/session/${parent.id}`), 404, "NotFoundError")
    expectNamedError(await api(target(), "PATCH", `/session/${parent.id}`, { body: { title: "x" } }), 404, "NotFoundError")

    // the SDK sees the 404 as an error result
    const viaSdk = await client.session.get({ path: { id: parent.id } })
    expect(viaSdk.response.status).toBe(404)
    expect(viaSdk.error).toMatchObject({ name: "NotFoundError" })
  })

  test("status lists no session while none is busy", async () => {
    const directory = uniqueDirectory("status")
    const client = sdk(target(), directory)
    await client.session.create({ body: {} })
    const status = await client.session.status()
    expect(status.response.status).toBe(200)
    expect(status.data).toEqual({})
  })

  test("requests without a directory use the server's default directory", async () => {
    const created = await api(target(), "POST", "/session", { body: { title: "default dir" } })
    expect(created.status, created.text).toBe(200)
    expect(created.json.directory).toBe(target().directory)
    const listed = await api(target(), "GET", "/session")
    expect(listed.json.map((s: Session) => s.id)).toContain(created.json.id)
  })

  test("the x-opencode-directory header (URI-encoded) selects the directory", async () => {
    const directory = uniqueDirectory("with space ü")
    const created = await api(target(), "POST", "/session", {
      body: {},
      headers: { "x-opencode-directory": encodeURIComponent(directory) },
    })
    expect(created.status, created.text).toBe(200)
    expect(created.json.directory).toBe(directory)
    const listed = await api(target(), "GET", "/session", { directory })
    expect(listed.json.map((s: Session) => s.id)).toEqual([created.json.id])
  })
})

describe.each(targetKinds())("project [%s]", (kind) => {
  const target = useTarget(kind)

  test("current, list and update", async () => {
    const directory = uniqueDirectory("project")
    const client = sdk(target(), directory)
    const current = await client.project.current()
    expect(current.response.status).toBe(200)
    const project = current.data!
    expect(project).toMatchObject({ id: expect.any(String), worktree: expect.any(String) })
    expect(project.time.created).toBeTypeOf("number")

    const listed = (await client.project.list()).data!
    expect(listed.map((p) => p.id)).toContain(project.id)

    const updated = await api(target(), "PATCH", `/project/${encodeURIComponent(project.id)}`, {
      directory,
      body: { name: "Renamed project" },
    })
    expect(updated.status, updated.text).toBe(200)
    expect(updated.json).toMatchObject({ id: project.id, name: "Renamed project" })
    const again = await api(target(), "GET", "/project/current", { directory })
    expect(again.json.name).toBe("Renamed project")
  })
})

describe.skipIf(!targetKinds().includes("local"))("project of a directory on the local agent", () => {
  const target = useTarget("local")

  test("a directory outside git is the global project until it is in a repository with a commit", async () => {
    const directory = realpathSync(mkdtempSync(join(tmpdir(), "oc-project-later-")))
    const current = async () => (await api(target(), "GET", "/project/current", { directory })).json.id
    expect(await current()).toBe("global")
    expect(await current()).toBe("global")
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: directory, encoding: "utf8" }).trim()
    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "first")
    expect(await current()).toBe(git("rev-list", "--max-parents=0", "HEAD"))
  })
})
