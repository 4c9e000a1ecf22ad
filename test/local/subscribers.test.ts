import { connect as tcpConnect, type Socket } from "node:net"
import { describe, expect, test } from "vitest"
import { useInProcessServer } from "../support/in-process.ts"
import { until } from "../support/http.ts"
import { connect, SseStream } from "../support/sse.ts"
import { uniqueDirectory } from "../support/targets.ts"

const BUFFER_BYTES = 64 * 1024

/** The local server in this process, so the test can see the hub's subscriber counts. */
describe("local agent: subscriber clean-up", () => {
  const local = useInProcessServer({ replayWindow: 10_000, maxSubscriberBufferBytes: BUFFER_BYTES })

  async function post(path: string, body: unknown): Promise<any> {
    const response = await fetch(local().url + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
    const json = await response.json()
    expect(response.status, JSON.stringify(json)).toBe(200)
    return json
  }

  test("a subscriber that disconnects is dropped at once, without any publish", async () => {
    const directory = uniqueDirectory("drop")
    const key = { kind: "directory" as const, directory }
    const stream = await connect(`${local().url}/event?directory=${encodeURIComponent(directory)}`)
    const other = await connect(`${local().url}/event?directory=${encodeURIComponent(directory)}`)
    await until(() => (local().hub.subscriberCount(key) === 2 ? true : undefined), { what: "two subscribers" })

    stream.close()
    // nothing is published to this directory: only the disconnect itself can remove the subscriber
    await until(() => (local().hub.subscriberCount(key) === 1 ? true : undefined), { what: "the closed subscriber to be dropped" })
    other.close()
    await until(() => (local().hub.subscriberCount(key) === 0 ? true : undefined), { what: "no subscribers" })

    // the same holds for /global/event and /session/:id/event
    const session = await post(`/session?directory=${encodeURIComponent(directory)}`, {})
    const sessionKey = { kind: "session" as const, sessionID: session.id }
    const perSession = await connect(`${local().url}/session/${session.id}/event`)
    await until(() => (local().hub.subscriberCount(sessionKey) === 1 ? true : undefined), { what: "the session subscriber" })
    const before = local().hub.subscriberCount({ kind: "global" })
    const global = await connect(`${local().url}/global/event`)
    await until(() => (local().hub.subscriberCount({ kind: "global" }) === before + 1 ? true : undefined))
    perSession.close()
    global.close()
    await until(() => (local().hub.subscriberCount(sessionKey) === 0 ? true : undefined), { what: "session subscriber dropped" })
    await until(() => (local().hub.subscriberCount({ kind: "global" }) === before ? true : undefined), {
      what: "global subscriber dropped",
    })
  })

  test("a stalled subscriber is closed past the buffer bound while another receives everything", async () => {
    const directory = uniqueDirectory("stall")
    const key = { kind: "directory" as const, directory }
    const session = await post(`/session?directory=${encodeURIComponent(directory)}`, { title: "stall" })

    // The stalled client: a raw socket that sends the request and then never reads.
    const url = new URL(local().url)
    const socket: Socket = tcpConnect({ host: url.hostname, port: Number(url.port) })
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject))
    socket.pause()
    let socketClosed = false
    socket.on("close", () => (socketClosed = true))
    socket.on("error", () => {})
    socket.write(
      `GET /event?directory=${encodeURIComponent(directory)} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
    )

    const healthy = await connect(`${local().url}/event?directory=${encodeURIComponent(directory)}`)
    await until(() => (local().hub.subscriberCount(key) === 2 ? true : undefined), { what: "both subscribers" })

    // Publish big events until the stalled one is cut off (its kernel buffers fill first, then the bound).
    const sent: string[] = []
    const chunk = "y".repeat(96 * 1024)
    for (let i = 0; i < 400 && local().hub.subscriberCount(key) === 2; i++) {
      const reply = await post(`/session/${session.id}/message`, { parts: [{ type: "text", text: `${i}:${chunk}` }], noReply: true })
      sent.push(reply.info.id)
    }
    expect(local().hub.subscriberCount(key), "the stalled subscriber was closed").toBe(1)
    // well before everything published could have been buffered for it
    expect(sent.length).toBeLessThan(400)

    // once closed it gets nothing more
    for (let i = 0; i < 3; i++) {
      const reply = await post(`/session/${session.id}/message`, { parts: [{ type: "text", text: `after ${i}` }], noReply: true })
      sent.push(reply.info.id)
    }
    const afterClose = sent.slice(-3)

    // the healthy subscriber got every message, in order
    await healthy.waitForEvent("message.updated", (p) => p.info.id === sent[sent.length - 1])
    const received = healthy.events().filter((f) => f.payload?.type === "message.updated").map((f) => f.payload!.properties.info.id)
    expect(received).toEqual(sent)
    healthy.close()

    // the stalled client, once it reads, finds a bounded amount of data and a closed connection
    let bytes = 0
    let text = ""
    socket.on("data", (data: Buffer) => {
      bytes += data.length
      text += data.toString("latin1")
    })
    socket.resume()
    await until(() => (socketClosed ? true : undefined), { what: "the stalled socket to be closed by the server" })
    expect(bytes).toBeGreaterThan(0)
    for (const id of afterClose) expect(text.includes(id), `${id} published after the close`).toBe(false)

    // ... and it can resume by id from the last complete frame it holds
    const ids = [...text.matchAll(/^id: (.+)\n(?:data: .*\n)+\n/gm)].map((m) => m[1]!)
    const lastId = ids[ids.length - 1]
    expect(lastId).toBeDefined()
    const resumed = await SseStream.open(`${local().url}/event?directory=${encodeURIComponent(directory)}`, { lastEventId: lastId! })
    try {
      expect(resumed.status, JSON.stringify(lastId)).toBe(200)
      await resumed.waitForEvent("message.updated", (p) => p.info.id === sent[sent.length - 1])
      expect(resumed.frames[0]!.payload).toMatchObject({ type: "server.connected", properties: { resume: "ok" } })
    } finally {
      resumed.close()
    }
  })
})
