import { afterEach, describe, expect, test } from "vitest"
import { sdk, useTarget } from "../support/http.ts"
import { connect, type SseStream } from "../support/sse.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

const open: SseStream[] = []
afterEach(() => {
  for (const stream of open.splice(0)) stream.close()
})

/** Under `wrangler dev` every request runs in one isolate: these subscribers are all held by one Worker isolate. */
describe.skipIf(!targetKinds().includes("worker"))("edge fan-out within an isolate", () => {
  const target = useTarget("worker")

  test("many subscribers of one stream get every event in order, with the same ids, while the first ones leave and a resume joins", async () => {
    const directory = uniqueDirectory("fanout")
    const client = sdk(target(), directory)
    const session = (await client.session.create({ body: { title: "t0" } })).data!
    const subscribe = async (lastEventId?: string) => {
      const stream = await connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`, {
        headers: target().authHeaders,
        ...(lastEventId ? { lastEventId } : {}),
      })
      open.push(stream)
      return stream
    }
    const retitle = async (title: string, witness: SseStream) => {
      await client.session.update({ path: { id: session.id }, body: { title } })
      return witness.waitForEvent("session.updated", (p) => p.info.title === title)
    }

    const first = await subscribe()
    const second = await subscribe()
    const rest = await Promise.all(Array.from({ length: 10 }, () => subscribe()))
    const witness = rest.at(-1)!
    await retitle("t1", witness)
    const t2 = await retitle("t2", witness)
    first.close()
    await retitle("t3", witness)
    second.close()
    await retitle("t4", witness)
    const resumed = await subscribe(t2.id)
    await retitle("t5", witness)
    for (const stream of [...rest, resumed]) await stream.waitForEvent("session.updated", (p) => p.info.title === "t5")

    const updates = (stream: SseStream) =>
      stream.frames
        .filter((f) => f.payload?.type === "session.updated" && f.payload.properties.sessionID === session.id)
        .map((f) => ({ id: f.id, title: f.payload!.properties.info.title }))
    const expected = updates(witness)
    expect(expected.map((u) => u.title)).toEqual(["t1", "t2", "t3", "t4", "t5"])
    for (const stream of rest) {
      expect(stream.ended).toBe(false)
      expect(stream.frames.filter((f) => f.payload?.type === "server.connected")).toHaveLength(1)
      expect(updates(stream)).toEqual(expected)
    }
    expect(resumed.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "ok" } })
    expect(updates(resumed)).toEqual(expected.slice(2))
  })
})
