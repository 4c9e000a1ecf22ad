import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, useTarget, type ApiResponse } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { connect, SseStream } from "../support/sse.ts"
import { registeredTenant } from "../support/paired-edge.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

/** A share id is 16 random bytes in base64url: 22 characters. */
const SHARE_ID = "[A-Za-z0-9_-]{22}"

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

/** The path of a share link's JSON, from the link (`<base>/s/<id>`). */
function dataPath(url: string): string {
  return `${new URL(url).pathname}/data`
}

/** The frames of a share's live stream: `{type: "share.message" | "share.header" | …, …}`. */
function shareFrames(stream: SseStream): any[] {
  return stream.frames.map((frame) => frame.json).filter((json) => json?.type?.startsWith("share."))
}

/** A share link's JSON, asked for as a stranger: no token, no password. */
function readShare(target: Target, url: string): Promise<ApiResponse> {
  return api(target, "GET", dataPath(url), { noAuth: true })
}

/** A paired-only edge: every API request needs a client token, except share links. */
describe.skipIf(!targetKinds().includes("worker"))("share links on a paired-only edge", () => {
  const target = useTarget("worker", { pairedOnly: true })

  const tenant = () => registeredTenant(target())

  test("sharing gives the session a link on the edge's origin and publishes session.updated", async () => {
    const owner = await tenant()
    const directory = uniqueDirectory("share")
    const qs = `?directory=${encodeURIComponent(directory)}`
    const session = (await owner.as("POST", `/session${qs}`, { title: "shared" })).json
    const events = await connect(`${target().url}/event${qs}`, { headers: bearer(owner.token) })
    try {
      const shared = await owner.as("POST", `/session/${session.id}/share${qs}`)
      expect(shared.status, shared.text).toBe(200)
      expect(shared.json).toMatchObject({ id: session.id, title: "shared" })
      expect(shared.json.share.url).toMatch(new RegExp(`^${target().url}/s/${SHARE_ID}$`))
      const updated = await events.waitForEvent("session.updated", (properties) => properties.info?.share?.url === shared.json.share.url)
      expect(updated.payload!.properties.info).toEqual(shared.json)
      expect((await owner.as("GET", `/session/${session.id}${qs}`)).json).toEqual(shared.json)
    } finally {
      events.close()
    }
  })

  test("the link's JSON is public and holds the session with its messages and parts, in upstream's share data shape", async () => {
    const owner = await tenant()
    const session = (await owner.as("POST", "/session", { title: "readable" })).json
    const prompt = await owner.as("POST", `/session/${session.id}/message`, { parts: [text("hello, reader")], noReply: true })
    expect(prompt.status, prompt.text).toBe(200)
    const { url } = (await owner.as("POST", `/session/${session.id}/share`)).json.share

    const data = await readShare(target(), url)
    expect(data.status, data.text).toBe(200)
    expect(data.headers.get("cache-control")).toBe("no-store")
    const items = data.json as { type: string; data: any }[]
    expect(items.map((item) => item.type)).toEqual(["session", "message", ...prompt.json.parts.map(() => "part")])
    expect(items[0]!.data).toMatchObject({ id: session.id, title: "readable", share: { url } })
    expect(items[1]!.data).toEqual(prompt.json.info)
    expect(items.slice(2).map((item) => item.data)).toEqual(prompt.json.parts)

    // A browser on another origin may read it, as it may call the rest of the edge.
    const cors = await api(target(), "GET", dataPath(url), { noAuth: true, headers: { Origin: "https://app.opencode.ai" } })
    expect(cors.headers.get("access-control-allow-origin")).toBe("https://app.opencode.ai")
  })

  test("unsharing kills the link at once; sharing again makes a new link and the old one stays dead", async () => {
    const owner = await tenant()
    const session = (await owner.as("POST", "/session", { title: "on and off" })).json
    const first = (await owner.as("POST", `/session/${session.id}/share`)).json.share.url as string
    expect((await readShare(target(), first)).status).toBe(200)

    const unshared = await owner.as("DELETE", `/session/${session.id}/share`)
    expect(unshared.status, unshared.text).toBe(200)
    expect(unshared.json.share).toBeUndefined()
    expect((await owner.as("GET", `/session/${session.id}`)).json.share).toBeUndefined()
    expectNamedError(await readShare(target(), first), 404, "NotFoundError")
    expect((await api(target(), "GET", new URL(first).pathname, { noAuth: true })).status).toBe(404)
    expectNamedError(await api(target(), "GET", `${new URL(first).pathname}/event`, { noAuth: true }), 404, "NotFoundError")

    const second = (await owner.as("POST", `/session/${session.id}/share`)).json.share.url as string
    expect(second).not.toBe(first)
    expect((await readShare(target(), second)).status).toBe(200)
    expectNamedError(await readShare(target(), first), 404, "NotFoundError")

    // Sharing a shared session replaces its link too.
    const third = (await owner.as("POST", `/session/${session.id}/share`)).json.share.url as string
    expect(third).not.toBe(second)
    expectNamedError(await readShare(target(), second), 404, "NotFoundError")
    expect((await readShare(target(), third)).status).toBe(200)

    // Deleting the session kills its link as well.
    expect((await owner.as("DELETE", `/session/${session.id}`)).status).toBe(200)
    expectNamedError(await readShare(target(), third), 404, "NotFoundError")
  })

  test("made-up share ids answer 404 NotFoundError, whatever their shape", async () => {
    for (const id of ["AAAAAAAAAAAAAAAAAAAAAA", "nope", "ses_000000000000000000000000000", "a%2Fb", "AAAAAAAAAAAAAAAAAAAAAA%00"]) {
      expectNamedError(await api(target(), "GET", `/s/${id}/data`, { noAuth: true }), 404, "NotFoundError")
      expectNamedError(await api(target(), "GET", `/s/${id}/event`, { noAuth: true }), 404, "NotFoundError")
      const page = await api(target(), "GET", `/s/${id}`, { noAuth: true })
      expect(page.status).toBe(404)
      expect(page.headers.get("content-type")).toContain("text/html")
    }
  })

  test("a share reaches its one session: another tenant can neither share it nor reach it, and the link is no token", async () => {
    const owner = await tenant()
    const other = await tenant()
    const session = (await owner.as("POST", "/session", { title: "owner's" })).json
    const { url } = (await owner.as("POST", `/session/${session.id}/share`)).json.share

    // Another tenant's token does not find the session, to share or unshare it.
    expectNamedError(await other.as("POST", `/session/${session.id}/share`), 404, "NotFoundError")
    expectNamedError(await other.as("DELETE", `/session/${session.id}/share`), 404, "NotFoundError")
    expect((await readShare(target(), url)).status).toBe(200)

    // The link opens nothing else: not as a token, and not beside the session's data.
    const id = new URL(url).pathname.split("/")[2]!
    for (const response of [
      await api(target(), "GET", "/session", { noAuth: true, headers: bearer(id) }),
      await api(target(), "GET", `/session/${session.id}`, { noAuth: true }),
    ]) {
      expect(response.status, response.text).toBe(401)
    }
    expectNamedError(await api(target(), "GET", `/s/${id}/session`, { noAuth: true }), 404, "NotFoundError")
  })
})

/** An open-tenant edge (as `npm run dev`): the page, its live stream, and the config's `share` setting. */
describe.skipIf(!targetKinds().includes("worker"))("share pages on the edge", () => {
  const target = useTarget("worker")
  let model: ModelServer

  beforeAll(async () => {
    model = await startModelServer()
    const configured = await api(target(), "PATCH", "/config", {
      body: { provider: { fake: fakeProviderConfig(model.baseURL).provider.fake }, model: "fake/fake-1", small_model: "fake/fake-1" },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await api(target(), "PATCH", "/config", { body: { share: "manual" } })
    await model?.close()
  })

  async function sharedSession(title: string) {
    const directory = uniqueDirectory("share-page")
    const session = (await api(target(), "POST", "/session", { directory, body: { title } })).json
    const shared = await api(target(), "POST", `/session/${session.id}/share`, { directory })
    expect(shared.status, shared.text).toBe(200)
    return { directory, session: shared.json, url: shared.json.share.url as string, path: new URL(shared.json.share.url).pathname }
  }

  test("the page is rendered on the server, with the conversation, Open Graph tags and a strict CSP", async () => {
    const { directory, session, path } = await sharedSession("Fixing the <parser> & more")
    await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("Why does **this** fail?")], noReply: true } })

    const page = await api(target(), "GET", path, { noAuth: true })
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(page.headers.get("cache-control")).toBe("no-store")
    const csp = page.headers.get("content-security-policy") ?? ""
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain("unsafe-inline")
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/)
    expect(page.text).toContain("Fixing the &lt;parser&gt; &amp; more")
    expect(page.text).toContain('property="og:title"')
    // User text is shown as typed, not as markdown.
    expect(page.text).toContain("Why does **this** fail?")
    expect(page.text).not.toContain("<parser>")
  })

  test("a reply streamed by the model reaches an open page's stream as rendered messages, and the JSON follows", async () => {
    const { directory, session, path } = await sharedSession("live")
    const stream = await connect(`${target().url}${path}/event`)
    try {
      model.script({ text: ["The answer ", "is **42**", "."], chunkDelayMs: 50 })
      const reply = await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("What is the answer?")] } })
      expect(reply.status, reply.text).toBe(200)
      const rendered = await stream.waitFor((frame) => frame.json?.type === "share.message" && frame.json.html.includes("<strong>42</strong>"), {
        what: "the reply, rendered",
      })
      expect(rendered.json.id).toBe(reply.json.info.id)
      expect(rendered.id).toMatch(/^\w+-\d+$/)
      expect(shareFrames(stream).some((frame) => frame.type === "share.header")).toBe(true)

      const data = (await api(target(), "GET", `${path}/data`, { noAuth: true })).json as { type: string; data: any }[]
      const answer = data.find((item) => item.type === "part" && item.data.type === "text" && item.data.messageID === reply.json.info.id)
      expect(answer?.data.text).toBe("The answer is **42**.")
      expect(data.find((item) => item.type === "message" && item.data.id === reply.json.info.id)?.data.time.completed).toBeDefined()
    } finally {
      stream.close()
    }
  })

  test("a stream resumes from the id the page was rendered at, with nothing missed", async () => {
    const { directory, session, path } = await sharedSession("resume")
    const page = await api(target(), "GET", path, { noAuth: true })
    const renderedAt = page.text.match(/data-last-event-id="([^"]+)"/)?.[1]
    expect(renderedAt, "the page names the stream id it was rendered at").toBeDefined()
    const posted = await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("said after the page loaded")], noReply: true } })
    const stream = await connect(`${target().url}${path}/event?lastEventId=${encodeURIComponent(renderedAt!)}`)
    try {
      expect(stream.frames[0]!.json.properties.resume).toBe("ok")
      await stream.waitFor((frame) => frame.json?.type === "share.message" && frame.json.id === posted.json.info.id, { what: "the missed message" })
    } finally {
      stream.close()
    }
  })

  test("a deleted message leaves an open page and the JSON", async () => {
    const { directory, session, path } = await sharedSession("pruned")
    const kept = await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("kept")], noReply: true } })
    const dropped = await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("dropped")], noReply: true } })
    const stream = await connect(`${target().url}${path}/event`)
    try {
      expect((await api(target(), "DELETE", `/session/${session.id}/message/${dropped.json.info.id}`, { directory })).status).toBe(200)
      await stream.waitFor((frame) => frame.json?.type === "share.message.removed" && frame.json.id === dropped.json.info.id, { what: "the removal" })
    } finally {
      stream.close()
    }
    const data = (await api(target(), "GET", `${path}/data`, { noAuth: true })).json as { type: string; data: any }[]
    expect(data.filter((item) => item.type === "message").map((item) => item.data.id)).toEqual([kept.json.info.id])
  })

  test("unsharing tells an open page's stream and ends it; the page and the stream are 404 from then on", async () => {
    const { session, path } = await sharedSession("going away")
    const stream = await connect(`${target().url}${path}/event`)
    try {
      expect((await api(target(), "DELETE", `/session/${session.id}/share`)).status).toBe(200)
      await stream.waitFor((frame) => frame.json?.type === "share.removed", { what: "share.removed" })
      await stream.waitEnded()
    } finally {
      stream.close()
    }
    expect((await api(target(), "GET", path, { noAuth: true })).status).toBe(404)
    expectNamedError(await api(target(), "GET", `${path}/event`, { noAuth: true }), 404, "NotFoundError")
  })

  test('share: "disabled" refuses with SharingDisabledError and changes nothing; "auto" shares each new top-level session', async () => {
    const directory = uniqueDirectory("share-config")
    const session = (await api(target(), "POST", "/session", { directory, body: {} })).json
    expect((await api(target(), "PATCH", "/config", { body: { share: "disabled" } })).status).toBe(200)
    expectNamedError(await api(target(), "POST", `/session/${session.id}/share`, { directory }), 403, "SharingDisabledError")
    expect((await api(target(), "GET", `/session/${session.id}`, { directory })).json).toEqual(session)

    expect((await api(target(), "PATCH", "/config", { body: { share: "auto" } })).status).toBe(200)
    const automatic = (await api(target(), "POST", "/session", { directory, body: {} })).json
    const shared = await until(async () => (await api(target(), "GET", `/session/${automatic.id}`, { directory })).json.share?.url as string | undefined, {
      what: "the automatic link",
    })
    expect((await api(target(), "GET", `${new URL(shared).pathname}/data`, { noAuth: true })).status).toBe(200)
    const child = (await api(target(), "POST", "/session", { directory, body: { parentID: automatic.id } })).json
    // A child session (a subagent's) is not shared on its own; its parent's creation above shows the background share has run by now.
    const again = (await api(target(), "POST", "/session", { directory, body: {} })).json
    await until(async () => (await api(target(), "GET", `/session/${again.id}`, { directory })).json.share?.url as string | undefined, { what: "a second automatic link" })
    expect((await api(target(), "GET", `/session/${child.id}`, { directory })).json.share).toBeUndefined()
    expect((await api(target(), "PATCH", "/config", { body: { share: "manual" } })).status).toBe(200)
  })
})

/** An open-tenant edge (as `npm run dev`) whose links point at a separate share host. */
describe.skipIf(!targetKinds().includes("worker"))("share links with OPENCODE_SHARE_URL", () => {
  const target = useTarget("worker", { vars: { OPENCODE_SHARE_URL: "https://share.example.test/" } })

  test("the link is on OPENCODE_SHARE_URL, and its id resolves on the edge", async () => {
    const session = (await api(target(), "POST", "/session", { body: {} })).json
    const shared = await api(target(), "POST", `/session/${session.id}/share`)
    expect(shared.status, shared.text).toBe(200)
    expect(shared.json.share.url).toMatch(new RegExp(`^https://share\\.example\\.test/s/${SHARE_ID}$`))
    const data = await readShare(target(), shared.json.share.url)
    expect(data.status, data.text).toBe(200)
    expect(data.json[0]).toEqual({ type: "session", data: shared.json })
  })
})

describe.skipIf(!targetKinds().includes("local"))("share links on the local server", () => {
  const target = useTarget("local")

  test("unpaired, sharing answers a NamedError that says how to pair with an edge; the session is unchanged", async () => {
    const session = (await api(target(), "POST", "/session", { body: {} })).json
    const refused = await api(target(), "POST", `/session/${session.id}/share`)
    expectNamedError(refused, 409, "SharingNeedsPairingError")
    expect(refused.json.data.message).toContain("npm run agent -- pair --edge")
    // Unsharing a session that has no link is nothing to do.
    expect((await api(target(), "DELETE", `/session/${session.id}/share`)).status).toBe(200)
    expect((await api(target(), "GET", `/session/${session.id}`)).json).toEqual(session)
    expectNamedError(await api(target(), "POST", "/session/ses_000000000000000000000000000/share"), 404, "NotFoundError")
  })

  test('share: "disabled" refuses with SharingDisabledError before anything else', async () => {
    const session = (await api(target(), "POST", "/session", { body: {} })).json
    expect((await api(target(), "PATCH", "/config", { body: { share: "disabled" } })).status).toBe(200)
    try {
      expectNamedError(await api(target(), "POST", `/session/${session.id}/share`), 403, "SharingDisabledError")
    } finally {
      await api(target(), "PATCH", "/config", { body: { share: "manual" } })
    }
  })
})
