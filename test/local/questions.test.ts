import { afterEach, describe, expect, test } from "vitest"
import { useInProcessServer } from "../support/in-process.ts"
import { Permissions, Questions } from "../../shared/domain/questions.ts"
import { TuiControl } from "../../shared/domain/tui-control.ts"
import { until } from "../support/http.ts"
import { connect, type SseStream } from "../support/sse.ts"
import { uniqueDirectory } from "../support/targets.ts"

/**
 * The waits that public routes cannot start: a question or permission request asked by server-side code
 * (Questions.ask / Permissions.ask) and released by an HTTP answer, and a TUI control round trip started
 * with TuiControl.call. The local server runs in this process so the test can call the domain with its ports.
 */
describe("local agent: questions, permissions and TUI control released over HTTP", () => {
  const local = useInProcessServer()
  const streams: SseStream[] = []
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close()
  })

  async function http(method: string, path: string, directory: string, body?: unknown) {
    const url = new URL(local().url + path)
    url.searchParams.set("directory", directory)
    const response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, json: text ? JSON.parse(text) : undefined }
  }

  async function session(directory: string): Promise<string> {
    return (await http("POST", "/session", directory, {})).json.id
  }

  async function watch(directory: string) {
    const stream = await connect(`${local().url}/event?directory=${encodeURIComponent(directory)}`)
    streams.push(stream)
    return stream
  }

  /** The rejection a wait ends with, caught at once (it may come before the test looks at it). */
  function settled(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      (value) => ({ resolved: value }),
      (error) => error,
    )
  }

  const question = { question: "Which colour?", header: "Colour", options: [{ label: "red", description: "warm" }, { label: "blue", description: "cold" }] }

  test("a question answered over HTTP releases the asker with the answers", async () => {
    const directory = uniqueDirectory("q-reply")
    const sessionID = await session(directory)
    const stream = await watch(directory)
    const tool = { messageID: "msg_1", callID: "call_1" }
    const asked = Questions.ask(local().ports, { directory, sessionID, questions: [question], tool })

    const listed = await until(async () => {
      const list = (await http("GET", "/question", directory)).json as any[]
      return list.length > 0 ? list : undefined
    })
    expect(listed).toEqual([{ id: expect.stringMatching(/^que_/), sessionID, questions: [question], tool }])
    const requestID = listed[0].id
    await stream.waitForEvent("question.asked", (p) => p.id === requestID)
    expect((await http("GET", `/question/${requestID}`, directory)).json).toEqual(listed[0])
    expect((await http("GET", "/question", uniqueDirectory("elsewhere"))).json).toEqual([])

    expect(await http("POST", `/question/${requestID}/reply`, directory, { answers: [["blue"]] })).toEqual({ status: 200, json: true })
    await expect(asked).resolves.toEqual([["blue"]])
    await stream.waitForEvent("question.replied", (p) => p.requestID === requestID && p.sessionID === sessionID)
    expect((await http("GET", "/question", directory)).json).toEqual([])
    expect((await http("POST", `/question/${requestID}/reply`, directory, { answers: [["red"]] })).status).toBe(404)
  })

  test("the seed's /answer works the same; a rejected question ends the wait with QuestionRejectedError", async () => {
    const directory = uniqueDirectory("q-reject")
    const sessionID = await session(directory)
    const stream = await watch(directory)
    let first = ""
    const answered = Questions.ask(local().ports, { directory, sessionID, questions: [question] }, { onAsked: (id) => (first = id) })
    await until(() => first || undefined)
    expect((await http("POST", `/question/${first}/answer`, directory, { answers: [["red"]] })).json).toBe(true)
    await expect(answered).resolves.toEqual([["red"]])

    let second = ""
    const rejected = settled(Questions.ask(local().ports, { directory, sessionID, questions: [question] }, { onAsked: (id) => (second = id) }))
    await until(() => second || undefined)
    expect((await http("POST", `/question/${second}/reject`, directory)).json).toBe(true)
    expect(await rejected).toMatchObject({ name: "QuestionRejectedError", data: { requestID: second } })
    await stream.waitForEvent("question.rejected", (p) => p.requestID === second)
  })

  test("an asker that gives up withdraws its question (RequestDisposedError)", async () => {
    const directory = uniqueDirectory("q-abort")
    const sessionID = await session(directory)
    const controller = new AbortController()
    let id = ""
    const asked = settled(Questions.ask(local().ports, { directory, sessionID, questions: [question] }, { signal: controller.signal, onAsked: (r) => (id = r) }))
    await until(() => id || undefined)
    controller.abort()
    expect(await asked).toMatchObject({ name: "RequestDisposedError" })
    expect((await http("GET", "/question", directory)).json).toEqual([])
  })

  test("POST /instance/dispose withdraws the directory's questions and permission requests (RequestDisposedError), not another directory's", async () => {
    const directory = uniqueDirectory("dispose")
    const other = uniqueDirectory("dispose-other")
    const sessionID = await session(directory)
    const otherSessionID = await session(other)
    const stream = await watch(directory)
    let questionID = ""
    let permissionID = ""
    let survivorID = ""
    const asked = settled(Questions.ask(local().ports, { directory, sessionID, questions: [question] }, { onAsked: (id) => (questionID = id) }))
    const permission = { directory, sessionID, permission: "bash", patterns: ["ls"] }
    const requested = settled(Permissions.ask(local().ports, permission, { onAsked: (id) => (permissionID = id) }))
    const survivor = settled(Questions.ask(local().ports, { directory: other, sessionID: otherSessionID, questions: [question] }, { onAsked: (id) => (survivorID = id) }))
    await until(() => (questionID && permissionID && survivorID) || undefined)

    expect(await http("POST", "/instance/dispose", directory)).toEqual({ status: 200, json: true })
    expect(await asked).toMatchObject({ name: "RequestDisposedError", data: { requestID: questionID } })
    expect(await requested).toMatchObject({ name: "RequestDisposedError", data: { requestID: permissionID } })
    await stream.waitForEvent("question.rejected", (p) => p.requestID === questionID && p.sessionID === sessionID && p.disposed === true)
    await stream.waitForEvent("permission.replied", (p) => p.requestID === permissionID && p.reply === "reject" && p.disposed === true)
    await stream.waitForEvent("server.instance.disposed", (p) => p.directory === directory)
    expect((await http("GET", "/question", directory)).json).toEqual([])
    expect((await http("GET", "/permission", directory)).json).toEqual([])
    expect((await http("POST", `/question/${questionID}/reply`, directory, { answers: [["red"]] })).status).toBe(404)

    // The other directory's question is still pending and still answerable.
    expect((await http("GET", "/question", other)).json).toEqual([expect.objectContaining({ id: survivorID })])
    expect((await http("POST", `/question/${survivorID}/reply`, other, { answers: [["blue"]] })).json).toBe(true)
    expect(await survivor).toEqual({ resolved: [["blue"]] })
  })

  test("permissions: v2 reply releases with once/always; the v1 route's reject ends the wait with PermissionRejectedError", async () => {
    const directory = uniqueDirectory("perm")
    const sessionID = await session(directory)
    const stream = await watch(directory)
    const input = { directory, sessionID, permission: "bash", patterns: ["ls *"], always: ["ls *"], metadata: { command: "ls" } }

    const granted = Permissions.ask(local().ports, input)
    const listed = await until(async () => {
      const list = (await http("GET", "/permission", directory)).json as any[]
      return list.length > 0 ? list : undefined
    })
    expect(listed).toEqual([{ id: expect.stringMatching(/^per_/), sessionID, permission: "bash", patterns: ["ls *"], always: ["ls *"], metadata: { command: "ls" } }])
    await stream.waitForEvent("permission.asked", (p) => p.id === listed[0].id)
    expect((await http("POST", `/permission/${listed[0].id}/reply`, directory, { reply: "always" })).json).toBe(true)
    await expect(granted).resolves.toBe("always")
    await stream.waitForEvent("permission.replied", (p) => p.requestID === listed[0].id && p.reply === "always")

    let id = ""
    const denied = settled(Permissions.ask(local().ports, input, { onAsked: (r) => (id = r) }))
    await until(() => id || undefined)
    expect((await http("POST", `/session/ses_other/permissions/${id}`, directory, { response: "reject" })).status).toBe(404)
    expect((await http("POST", `/session/${sessionID}/permissions/${id}`, directory, { response: "reject" })).json).toBe(true)
    expect(await denied).toMatchObject({ name: "PermissionRejectedError", data: { requestID: id } })
    expect((await http("GET", "/permission", directory)).json).toEqual([])
  })

  test("TUI control round trip: a server-side call reaches /tui/control/next and gets /tui/control/response's body", async () => {
    const directory = uniqueDirectory("tui-control")
    const polling = http("GET", "/tui/control/next?timeout=20000", directory)
    const call = TuiControl.call(local().ports.tuiControl, "/tui/open-help", { reason: "test" })
    expect(await polling).toEqual({ status: 200, json: { path: "/tui/open-help", body: { reason: "test" } } })
    expect(await http("POST", "/tui/control/response", directory, { ok: "done" })).toEqual({ status: 200, json: true })
    await expect(call).resolves.toEqual({ ok: "done" })

    // Queued before anyone polls: the next poll gets it at once.
    const queued = TuiControl.call(local().ports.tuiControl, "/tui/status", {})
    expect((await http("GET", "/tui/control/next?timeout=0", directory)).json).toEqual({ path: "/tui/status", body: {} })
    await http("POST", "/tui/control/response", directory, 42)
    await expect(queued).resolves.toBe(42)

    await expect(TuiControl.call(local().ports.tuiControl, "/tui/ignored", {}, 50)).rejects.toMatchObject({ name: "TuiControlTimeoutError" })
    expect((await http("GET", "/tui/control/next?timeout=0", directory)).status).toBe(204)
  })
})
