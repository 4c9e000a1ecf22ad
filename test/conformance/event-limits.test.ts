import { afterEach, describe, expect, test } from "vitest"
import { sdk, useTarget } from "../support/http.ts"
import { connect, type SseStream } from "../support/sse.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

const REPLAY_WINDOW = 5

const open: SseStream[] = []
afterEach(() => {
  for (const stream of open.splice(0)) stream.close()
})

async function subscribe(target: Target, path: string, lastEventId?: string) {
  const stream = await connect(target.url + path, {
    headers: target.authHeaders,
    ...(lastEventId !== undefined ? { lastEventId } : {}),
  })
  open.push(stream)
  return stream
}

/** A subscriber that saw one session update and then went away: what it needs to resume later. */
async function seenThenGone(target: Target, label: string) {
  const directory = uniqueDirectory(label)
  const client = sdk(target, directory)
  const session = (await client.session.create({ body: { title: "start" } })).data!
  const path = `/event?directory=${encodeURIComponent(directory)}`
  const reader = await subscribe(target, path)
  await client.session.update({ path: { id: session.id }, body: { title: "seen" } })
  const seen = await reader.waitForEvent("session.updated", (p) => p.info.title === "seen")
  reader.close()
  return { client, session, path, seen }
}

/** A small replay window and a fast heartbeat. */
describe.each(targetKinds())("event limits [%s]", (kind) => {
  const target = useTarget(kind, { replayWindow: REPLAY_WINDOW, heartbeatMs: 200 })

  test("heartbeats arrive, each with an id", async () => {
    const directory = uniqueDirectory("heartbeat")
    const stream = await subscribe(target(), `/event?directory=${encodeURIComponent(directory)}`)
    const beat = await stream.waitForEvent("server.heartbeat")
    expect(beat.id).toMatch(/\S/)
    expect(beat.json).toMatchObject({ type: "server.heartbeat", properties: {} })

    const global = await subscribe(target(), "/global/event")
    const globalBeat = await global.waitForEvent("server.heartbeat")
    expect(globalBeat.id).toMatch(/\S/)
    expect(globalBeat.json.payload).toMatchObject({ type: "server.heartbeat" })
  })

  test("a Last-Event-ID older than the replay window resumes with gap", async () => {
    const { client, session, path, seen } = await seenThenGone(target(), "gap-old")

    for (let i = 0; i < REPLAY_WINDOW * 2; i++) {
      await client.session.update({ path: { id: session.id }, body: { title: `missed ${i}` } })
    }
    const resumed = await subscribe(target(), path, seen.id!)
    expect(resumed.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "gap" } })
    // nothing from the lost stretch is replayed; live events flow again
    await client.session.update({ path: { id: session.id }, body: { title: "after gap" } })
    await resumed.waitForEvent("session.updated", (p) => p.info.title === "after gap")
    expect(resumed.events(1).map((f) => f.payload!.properties.info.title)).toEqual(["after gap"])
  })

  test("a Last-Event-ID inside the window still resumes ok", async () => {
    const { client, session, path, seen } = await seenThenGone(target(), "inside-window")
    await client.session.update({ path: { id: session.id }, body: { title: "missed 1" } })
    await client.session.update({ path: { id: session.id }, body: { title: "missed 2" } })

    const resumed = await subscribe(target(), path, seen.id!)
    expect(resumed.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "ok" } })
    await resumed.waitForEvent("session.updated", (p) => p.info.title === "missed 2")
    expect(resumed.events(1).map((f) => f.payload!.properties.info.title)).toEqual(["missed 1", "missed 2"])
  })

  test("an unknown Last-Event-ID resumes with gap on /global/event too", async () => {
    const stream = await subscribe(target(), "/global/event", "not-an-id-we-gave")
    expect(stream.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "gap" } })
  })
})

/** A small per-subscriber buffer bound: a resume whose backlog is larger than the bound must still work. */
describe.each(targetKinds())("event buffer bound [%s]", (kind) => {
  const target = useTarget(kind, { sseBufferBytes: 64 * 1024 })

  test("a resume replays a backlog larger than the buffer bound", async () => {
    const directory = uniqueDirectory("big-backlog")
    const client = sdk(target(), directory)
    const session = (await client.session.create({ body: { title: "big" } })).data!
    const path = `/event?directory=${encodeURIComponent(directory)}`
    const reader = await subscribe(target(), path)
    await client.session.update({ path: { id: session.id }, body: { title: "seen" } })
    const seen = await reader.waitForEvent("session.updated", (p) => p.info.title === "seen")
    reader.close()

    const sent: string[] = []
    for (let i = 0; i < 4; i++) {
      const reply = await client.session.prompt({
        path: { id: session.id },
        body: { parts: [{ type: "text", text: `${i}:${"b".repeat(100 * 1024)}` }], noReply: true },
      })
      sent.push(reply.data!.info.id)
    }
    const resumed = await subscribe(target(), path, seen.id!)
    expect(resumed.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "ok" } })
    await resumed.waitForEvent("message.part.updated", (p) => p.part.messageID === sent[sent.length - 1])
    const parts = resumed.events(1).filter((f) => f.payload?.type === "message.part.updated")
    expect(parts.map((f) => f.payload!.properties.part.messageID)).toEqual(sent)
  })
})
