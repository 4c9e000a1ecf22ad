import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, type ApiResponse } from "../support/http.ts"
import { agentPair } from "../support/paired-edge.ts"
import { connect } from "../support/sse.ts"
import { startTarget, targetKinds, type Target } from "../support/targets.ts"

/**
 * A local server paired with an edge shares its sessions through it, as upstream's local server shares through
 * its share service: the link is the edge's, and the session's changes follow it there.
 */
describe.skipIf(!targetKinds().includes("worker") || !targetKinds().includes("local"))("sharing from a local server paired with an edge", () => {
  let edge: Target
  let local: Target

  beforeAll(async () => {
    ;[edge, local] = await Promise.all([startTarget("worker", { pairedOnly: true }), startTarget("local")])
    // `agent pair` with the server's own state directory: the machine.json it reads when asked to share.
    await agentPair(edge, local.stateDir)
  })
  afterAll(async () => {
    await Promise.all([edge?.stop(), local?.stop()])
  })

  const readShare = (url: string, suffix = "/data"): Promise<ApiResponse> => api(edge, "GET", `${new URL(url).pathname}${suffix}`, { noAuth: true })

  test("the link is the edge's; the session's changes reach it; unsharing removes it there", async () => {
    const session = (await api(local, "POST", "/session", { body: { title: "shared from my machine" } })).json
    await api(local, "POST", `/session/${session.id}/message`, { body: { parts: [text("first words")], noReply: true } })
    const shared = await api(local, "POST", `/session/${session.id}/share`)
    expect(shared.status, shared.text).toBe(200)
    const url = shared.json.share.url as string
    expect(url.startsWith(`${edge.url}/s/`), url).toBe(true)

    // Readable at once: the full sync ran before the link was answered.
    const first = await readShare(url)
    expect(first.status, first.text).toBe(200)
    expect(first.json.map((item: any) => item.type)).toEqual(["session", "message", "part"])
    expect(first.json[2].data.text).toBe("first words")

    const page = await readShare(url, "")
    expect(page.status).toBe(200)
    expect(page.text).toContain("shared from my machine")
    expect(page.text).toContain("first words")

    // Later changes follow, debounced, and an open page's stream sees them.
    const stream = await connect(`${edge.url}${new URL(url).pathname}/event`)
    try {
      const later = await api(local, "POST", `/session/${session.id}/message`, { body: { parts: [text("said later")], noReply: true } })
      await stream.waitFor((frame) => frame.json?.type === "share.message" && frame.json.id === later.json.info.id, { what: "the synced message" })
      const data = await readShare(url)
      expect(data.json.find((item: any) => item.type === "session").data.share.url).toBe(url)
      expect(data.json.filter((item: any) => item.type === "part").map((item: any) => item.data.text)).toEqual(["first words", "said later"])
      const renamed = await api(local, "PATCH", `/session/${session.id}`, { body: { title: "renamed" } })
      expect(renamed.status).toBe(200)
      await until(async () => ((await readShare(url)).json[0].data.title === "renamed" ? true : undefined), { what: "the new title at the edge" })

      // A deleted message leaves the link too: the next sync is a full one, and open pages reload.
      expect((await api(local, "DELETE", `/session/${session.id}/message/${later.json.info.id}`)).status).toBe(200)
      await stream.waitFor((frame) => frame.json?.type === "share.reload", { what: "share.reload" })
      const after = await readShare(url)
      expect(after.json.filter((item: any) => item.type === "part").map((item: any) => item.data.text)).toEqual(["first words"])

      // Unsharing removes the link at the edge before it answers; the open page is told.
      const unshared = await api(local, "DELETE", `/session/${session.id}/share`)
      expect(unshared.status, unshared.text).toBe(200)
      expect(unshared.json.share).toBeUndefined()
      await stream.waitFor((frame) => frame.json?.type === "share.removed", { what: "share.removed" })
      await stream.waitEnded()
    } finally {
      stream.close()
    }
    expectNamedError(await readShare(url), 404, "NotFoundError")
    expect((await readShare(url, "")).status).toBe(404)

    // Sharing again makes a new link; the old one stays dead. Deleting the session kills the new one.
    const again = (await api(local, "POST", `/session/${session.id}/share`)).json.share.url as string
    expect(again).not.toBe(url)
    expect((await readShare(again)).status).toBe(200)
    expectNamedError(await readShare(url), 404, "NotFoundError")
    expect((await api(local, "DELETE", `/session/${session.id}`)).status).toBe(200)
    expectNamedError(await readShare(again), 404, "NotFoundError")
  })

  test("the edge's share API needs the machine's secret to create and the share's own secret to sync or remove", async () => {
    const machine = JSON.parse(readFileSync(join(local.stateDir, "machine.json"), "utf8")) as { secret: string }
    const session = (await api(local, "POST", "/session", { body: {} })).json
    const url = (await api(local, "POST", `/session/${session.id}/share`)).json.share.url as string
    const id = new URL(url).pathname.split("/")[2]!

    expectNamedError(await api(edge, "POST", "/edge/share", { noAuth: true, body: { sessionID: session.id } }), 401, "UnauthorizedError")
    const wrongMachine = { Authorization: `Bearer ${"x".repeat(43)}` }
    expectNamedError(await api(edge, "POST", "/edge/share", { noAuth: true, headers: wrongMachine, body: { sessionID: session.id } }), 401, "UnauthorizedError")
    const made = await api(edge, "POST", "/edge/share", { noAuth: true, headers: { Authorization: `Bearer ${machine.secret}` }, body: { sessionID: session.id } })
    expect(made.status, made.text).toBe(200)
    expect(made.json).toMatchObject({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), secret: expect.any(String) })

    // Another share's secret (or a made-up one) neither syncs nor removes this link, and changes nothing.
    const before = await readShare(url)
    const forged = [{ type: "session", data: { ...before.json[0].data, title: "defaced" } }]
    expectNamedError(await api(edge, "POST", `/edge/share/${id}/sync`, { noAuth: true, body: { secret: made.json.secret, data: forged } }), 403, "ForbiddenError")
    expectNamedError(await api(edge, "DELETE", `/edge/share/${id}`, { noAuth: true, body: { secret: "guess" } }), 403, "ForbiddenError")
    expect((await readShare(url)).json).toEqual(before.json)
    expectNamedError(await api(edge, "POST", `/edge/share/${"A".repeat(22)}/sync`, { noAuth: true, body: { secret: "x", data: [] } }), 404, "NotFoundError")
    expectNamedError(await api(edge, "POST", `/edge/share/${id}/sync`, { noAuth: true, body: { secret: made.json.secret, data: [{ type: "nope" }] } }), 400, "BadRequest")
  })

  test('share: "auto" shares each new session through the edge', async () => {
    expect((await api(local, "PATCH", "/config", { body: { share: "auto" } })).status).toBe(200)
    try {
      const session = (await api(local, "POST", "/session", { body: {} })).json
      const url = await until(async () => (await api(local, "GET", `/session/${session.id}`)).json.share?.url as string | undefined, { what: "the automatic link" })
      expect((await readShare(url)).status).toBe(200)
    } finally {
      await api(local, "PATCH", "/config", { body: { share: "manual" } })
    }
  })
})
