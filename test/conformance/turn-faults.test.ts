import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, text, until, useTarget } from "../support/http.ts"
import { startModelServer, type ModelServer } from "../support/model-server.ts"
import { connect } from "../support/sse.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

/**
 * A server that dies mid-turn (`kill -9` of the local agent; `wrangler dev` stopped and started again) must not
 * leave the session busy forever: the interrupted assistant message is closed with an error, the session goes
 * idle, and what was acknowledged before (the user's prompt) is still there.
 */
describe.each(targetKinds())("a turn interrupted by a restart [%s]", (kind) => {
  const target = useTarget(kind)
  let model: ModelServer

  beforeAll(async () => {
    model = await startModelServer()
    const configured = await api(target(), "PATCH", "/config", {
      body: { provider: { fake: { npm: "@ai-sdk/openai-compatible", options: { baseURL: model.baseURL }, models: { "fake-1": {} } } }, model: "fake/fake-1" },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await model?.close()
  })

  test("the interrupted message ends with an error and the session idles; what the dead turn asked is withdrawn", async () => {
    // One turn waits for a permission when the server dies: nobody is left to take the answer.
    const asking = uniqueDirectory("restart-asking")
    const waiting = (await api(target(), "POST", "/session", { directory: asking, body: { permission: [{ permission: "todowrite", pattern: "*", action: "ask" }] } })).json
    model.script({ toolCalls: [{ name: "todowrite", input: { todos: [] } }] })
    const askingStream = await connect(`${target().url}/event?directory=${encodeURIComponent(asking)}`)
    await api(target(), "POST", `/session/${waiting.id}/prompt_async`, { directory: asking, body: { parts: [text("ask")] } })
    await askingStream.waitForEvent("permission.asked", (p) => p.sessionID === waiting.id)
    askingStream.close()

    const directory = uniqueDirectory("restart")
    const session = (await api(target(), "POST", "/session", { directory, body: { title: "kept title" } })).json
    model.script({ text: ["streamed ", "before ", "the ", "crash ", "and ", "more"], chunkDelayMs: 1_000 })
    const stream = await connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`)
    const sent = await api(target(), "POST", `/session/${session.id}/prompt_async`, { directory, body: { parts: [text("go")] } })
    expect(sent.status, sent.text).toBe(204)
    await stream.waitForEvent("message.part.delta", (p) => p.sessionID === session.id)
    stream.close()
    expect((await api(target(), "GET", "/session/status", { directory })).json[session.id]).toMatchObject({ type: "busy" })

    if (kind === "local") {
      await target().kill9!()
      await target().restart()
    } else {
      await target().restart()
    }

    // Locally the restart closes it at start; on the edge the session object's watchdog alarm does, within seconds.
    const closed = await until(
      async () => {
        const messages = (await api(target(), "GET", `/session/${session.id}/message`, { directory })).json as any[]
        const assistant = messages.find((m) => m.info.role === "assistant")
        return assistant?.info.time.completed ? messages : undefined
      },
      { timeoutMs: 60_000, what: "the interrupted assistant message to be closed" },
    )
    expect(closed.map((m) => m.info.role)).toEqual(["user", "assistant"])
    expect(closed[0].parts[0]).toMatchObject({ type: "text", text: "go" })
    expect(closed[1].info.error).toMatchObject({ name: "UnknownError", data: { message: expect.stringContaining("stopped") } })
    await until(async () => ((await api(target(), "GET", "/session/status", { directory })).json[session.id] === undefined ? true : undefined), {
      timeoutMs: 30_000,
      what: "the session to be idle",
    })

    // the asking turn was closed too, and its request is no longer pending
    await until(async () => ((await api(target(), "GET", "/session/status", { directory: asking })).json[waiting.id] === undefined ? true : undefined), {
      timeoutMs: 60_000,
      what: "the asking session to be idle",
    })
    expect((await api(target(), "GET", "/permission", { directory: asking })).json).toEqual([])

    // and the session works again
    model.script({ text: "back again" })
    const reply = await api(target(), "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("again")] } })
    expect(reply.status, reply.text).toBe(200)
    expect(reply.json.info).toMatchObject({ finish: "stop" })
    expect(reply.json.parts.find((part: any) => part.type === "text").text).toBe("back again")
  })
})
