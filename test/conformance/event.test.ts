import { afterEach, describe, expect, test } from "vitest"
import { api, sdk, text, useTarget } from "../support/http.ts"
import { connect, type SseFrame, type SseStream } from "../support/sse.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

/** Streams opened by a test, closed after it whatever happens. */
const open: SseStream[] = []
afterEach(() => {
  for (const stream of open.splice(0)) stream.close()
})

async function subscribe(target: Target, path: string, options: { headers?: Record<string, string>; lastEventId?: string } = {}) {
  const stream = await connect(target.url + path, { ...options, headers: { ...target.authHeaders, ...options.headers } })
  open.push(stream)
  return stream
}

function indexOf(stream: SseStream, predicate: (frame: SseFrame) => boolean): number {
  return stream.frames.findIndex(predicate)
}

function sessionIDOf(frame: SseFrame): string | undefined {
  return frame.payload?.properties?.sessionID
}

describe.each(targetKinds())("events [%s]", (kind) => {
  const target = useTarget(kind)

  test("/event: server.connected first, ids on every frame, a prompt's events in order", async () => {
    const directory = uniqueDirectory("events")
    const stream = await subscribe(target(), `/event?directory=${encodeURIComponent(directory)}`)
    const first = stream.frames[0]!
    expect(first.json).toMatchObject({ type: "server.connected", properties: { resume: "initial" } })

    const client = sdk(target(), directory)
    const session = (await client.session.create({ body: { title: "watched" } })).data!
    const reply = await client.session.prompt({ path: { id: session.id }, body: { parts: [text("hi")] } })
    expect(reply.response.status).toBe(200)
    await stream.waitForEvent("session.status", (p) => p.sessionID === session.id && p.status.type === "idle")

    for (const frame of stream.frames) {
      expect(frame.id, frame.data).toMatch(/\S/)
      expect(frame.json, frame.data).toMatchObject({ type: expect.any(String), properties: expect.any(Object) })
    }
    const created = indexOf(stream, (f) => f.payload?.type === "session.created" && f.payload.properties.info.id === session.id)
    const userMessage = indexOf(
      stream,
      (f) => f.payload?.type === "message.updated" && f.payload.properties.info.role === "user" && sessionIDOf(f) === session.id,
    )
    const part = indexOf(
      stream,
      (f) => f.payload?.type === "message.part.updated" && f.payload.properties.part.type === "text" && sessionIDOf(f) === session.id,
    )
    const busy = indexOf(stream, (f) => f.payload?.type === "session.status" && f.payload.properties.status.type === "busy")
    const assistant = indexOf(
      stream,
      (f) => f.payload?.type === "message.updated" && f.payload.properties.info.role === "assistant" && sessionIDOf(f) === session.id,
    )
    const idle = indexOf(stream, (f) => f.payload?.type === "session.status" && f.payload.properties.status.type === "idle")
    expect(created).toBeGreaterThan(0)
    expect({ created, userMessage, part, busy, assistant, idle }).toEqual({
      created,
      userMessage: expect.any(Number),
      part: expect.any(Number),
      busy: expect.any(Number),
      assistant: expect.any(Number),
      idle: expect.any(Number),
    })
    expect(created).toBeLessThan(userMessage)
    expect(userMessage).toBeLessThan(part)
    expect(part).toBeLessThan(busy)
    expect(busy).toBeLessThan(assistant)
    expect(assistant).toBeLessThan(idle)

    const userInfo = stream.frames[userMessage]!.payload!.properties.info
    expect(stream.frames[part]!.payload!.properties.part).toMatchObject({ text: "hi", messageID: userInfo.id })
    expect(stream.frames[assistant]!.payload!.properties.info).toMatchObject({ parentID: userInfo.id, role: "assistant" })
    // no provider is configured: the assistant message ends with ProviderAuthError, announced before idle
    const failed = indexOf(
      stream,
      (f) => f.payload?.type === "message.updated" && f.payload.properties.info.error?.name === "ProviderAuthError" && sessionIDOf(f) === session.id,
    )
    expect(failed).toBeGreaterThan(assistant)
    expect(failed).toBeLessThan(idle)
    // ids are distinct
    const ids = stream.events().map((f) => f.id)
    expect(new Set(ids).size).toBe(ids.length)
  })

  test("/global/event: {directory, payload} frames for every directory", async () => {
    const stream = await subscribe(target(), "/global/event")
    expect(stream.frames[0]!.payload?.type).toBe("server.connected")
    expect(stream.frames[0]!.json).toHaveProperty("payload")

    const first = uniqueDirectory("global-a")
    const second = uniqueDirectory("global-b")
    const a = (await sdk(target(), first).session.create({ body: {} })).data!
    const b = (await sdk(target(), second).session.create({ body: {} })).data!
    await sdk(target(), first).session.prompt({ path: { id: a.id }, body: { parts: [text("x")], noReply: true } })

    const createdA = await stream.waitForEvent("session.created", (p) => p.info.id === a.id)
    const createdB = await stream.waitForEvent("session.created", (p) => p.info.id === b.id)
    const message = await stream.waitForEvent("message.updated", (p) => p.sessionID === a.id)
    expect(createdA.json).toMatchObject({ directory: first, payload: { type: "session.created", properties: { info: { id: a.id } } } })
    expect(createdB.json).toMatchObject({ directory: second, payload: { type: "session.created" } })
    expect(message.json.directory).toBe(first)
    for (const frame of stream.frames) {
      expect(frame.id, frame.data).toMatch(/\S/)
      expect(frame.json.payload, frame.data).toMatchObject({ type: expect.any(String), properties: expect.any(Object) })
    }
  })

  test("/session/:id/event carries that session's events only", async () => {
    const directory = uniqueDirectory("session-events")
    const client = sdk(target(), directory)
    const mine = (await client.session.create({ body: { title: "mine" } })).data!
    const other = (await client.session.create({ body: { title: "other" } })).data!
    const stream = await subscribe(target(), `/session/${mine.id}/event`)
    expect(stream.frames[0]!.json.type).toBe("server.connected")

    await client.session.prompt({ path: { id: other.id }, body: { parts: [text("not for you")], noReply: true } })
    await client.session.update({ path: { id: other.id }, body: { title: "other renamed" } })
    await client.session.prompt({ path: { id: mine.id }, body: { parts: [text("for you")], noReply: true } })
    await client.session.update({ path: { id: mine.id }, body: { title: "mine renamed" } })
    await stream.waitForEvent("session.updated", (p) => p.info.title === "mine renamed")

    const events = stream.events(1)
    expect(events.map((f) => f.payload!.type)).toEqual(
      expect.arrayContaining(["message.updated", "message.part.updated", "session.updated"]),
    )
    for (const frame of events) {
      expect(frame.id).toMatch(/\S/)
      expect(sessionIDOf(frame), frame.data).toBe(mine.id)
    }

    const missing = await api(target(), "GET", "/session/ses_0000000000000nosuchsession/event")
    expect(missing.status).toBe(404)
    expect(missing.json?.name).toBe("NotFoundError")
  })

  test("directory scoping: one directory's events do not reach another's /event", async () => {
    const dirA = uniqueDirectory("scope-a")
    const dirB = uniqueDirectory("scope-b")
    // A by query, B by the URI-encoded header, as the SDK sends it
    const streamA = await subscribe(target(), `/event?directory=${encodeURIComponent(dirA)}`)
    const streamB = await subscribe(target(), "/event", { headers: { "x-opencode-directory": encodeURIComponent(dirB) } })

    const inA = (await sdk(target(), dirA).session.create({ body: { title: "in A" } })).data!
    await sdk(target(), dirA).session.prompt({ path: { id: inA.id }, body: { parts: [text("A only")], noReply: true } })
    const inB = (await sdk(target(), dirB).session.create({ body: { title: "in B" } })).data!
    await sdk(target(), dirA).session.update({ path: { id: inA.id }, body: { title: "A again" } })

    await streamB.waitForEvent("session.created", (p) => p.info.id === inB.id)
    await streamA.waitForEvent("session.updated", (p) => p.info.title === "A again")

    expect(streamB.events(1).map(sessionIDOf)).toEqual([inB.id])
    expect(streamA.events(1).every((f) => sessionIDOf(f) === inA.id)).toBe(true)
    expect(streamA.types(1)).toEqual(expect.arrayContaining(["session.created", "message.updated", "session.updated"]))
  })

  describe.each([
    ["/event", (directory: string, _sessionID: string) => `/event?directory=${encodeURIComponent(directory)}`],
    ["/global/event", () => "/global/event"],
    ["/session/:id/event", (_directory: string, sessionID: string) => `/session/${sessionID}/event`],
  ] as const)("Last-Event-ID resume on %s", (_name, pathOf) => {
    test("a reconnect gets exactly the missed events, with resume ok", async () => {
      const directory = uniqueDirectory("resume")
      const client = sdk(target(), directory)
      const session = (await client.session.create({ body: { title: "resume" } })).data!
      const path = pathOf(directory, session.id)
      const witness = await subscribe(target(), path)
      const reader = await subscribe(target(), path)
      expect(reader.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "initial" } })

      await client.session.update({ path: { id: session.id }, body: { title: "seen" } })
      const seen = await reader.waitForEvent("session.updated", (p) => p.info.title === "seen")
      reader.close()

      await client.session.update({ path: { id: session.id }, body: { title: "missed 1" } })
      await client.session.prompt({ path: { id: session.id }, body: { parts: [text("missed message")], noReply: true } })
      await client.session.update({ path: { id: session.id }, body: { title: "missed 2" } })
      await witness.waitForEvent("session.updated", (p) => p.info.title === "missed 2")

      const resumed = await subscribe(target(), path, { lastEventId: seen.id! })
      expect(resumed.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "ok" } })
      await resumed.waitForEvent("session.updated", (p) => p.info.title === "missed 2")

      const seenAt = witness.frames.findIndex((f) => f.id === seen.id && f.payload?.type === "session.updated")
      expect(seenAt).toBeGreaterThan(0)
      const endAt = witness.frames.findIndex((f) => f.payload?.type === "session.updated" && f.payload.properties.info.title === "missed 2")
      const expected = witness.frames
        .slice(seenAt + 1, endAt + 1)
        .filter((f) => f.payload?.type !== "server.heartbeat")
        .map((f) => ({ id: f.id, data: f.data }))
      const endResumed = resumed.frames.findIndex(
        (f) => f.payload?.type === "session.updated" && f.payload.properties.info.title === "missed 2",
      )
      const got = resumed.frames
        .slice(1, endResumed + 1)
        .filter((f) => f.payload?.type !== "server.heartbeat")
        .map((f) => ({ id: f.id, data: f.data }))
      expect(got).toEqual(expected)
      expect(got.map((f) => JSON.parse(f.data).payload?.type ?? JSON.parse(f.data).type)).toEqual(
        expect.arrayContaining(["session.updated", "message.updated", "message.part.updated"]),
      )

      // and it goes on live after the replay
      await client.session.update({ path: { id: session.id }, body: { title: "live again" } })
      await resumed.waitForEvent("session.updated", (p) => p.info.title === "live again")
    })
  })

  test("an unknown Last-Event-ID resumes with gap, then delivers live", async () => {
    const directory = uniqueDirectory("gap-unknown")
    for (const lastEventId of ["no-such-id", "zzzz0000-1", "garbage"]) {
      const stream = await subscribe(target(), `/event?directory=${encodeURIComponent(directory)}`, { lastEventId })
      expect(stream.frames[0]!.payload, lastEventId).toMatchObject({ type: "server.connected", properties: { resume: "gap" } })
      const session = (await sdk(target(), directory).session.create({ body: { title: lastEventId } })).data!
      await stream.waitForEvent("session.created", (p) => p.info.id === session.id)
      stream.close()
    }
  })
})
