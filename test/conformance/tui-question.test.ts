import { afterEach, describe, expect, test } from "vitest"
import { api, expectNamedError, sdk, until, useTarget } from "../support/http.ts"
import { connect, type SseStream } from "../support/sse.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

/**
 * TUI remote control, questions and permissions over HTTP, on both runtimes: the events, the control queue's
 * round trip, listing and the 404s. A question released by its HTTP answer is in tool.test.ts (the question
 * tool); permission requests around machine tools in test/local/tools.test.ts and test/edge/tunnel.test.ts.
 */
const open: SseStream[] = []
afterEach(() => {
  for (const stream of open.splice(0)) stream.close()
})

async function subscribe(target: Target, directory: string) {
  const stream = await connect(`${target.url}/event?directory=${encodeURIComponent(directory)}`, { headers: target.authHeaders })
  open.push(stream)
  return stream
}

describe.each(targetKinds())("tui, question, permission [%s]", (kind) => {
  const target = useTarget(kind)

  test("TUI routes answer true and publish their tui.* events", async () => {
    const directory = uniqueDirectory("tui")
    const stream = await subscribe(target(), directory)
    const post = async (path: string, body?: unknown) => {
      const response = await api(target(), "POST", path, { directory, body })
      expect({ path, status: response.status, json: response.json }, response.text).toEqual({ path, status: 200, json: true })
    }
    const session = (await sdk(target(), directory).session.create({ body: {} })).data!

    await post("/tui/append-prompt", { text: "hello tui" })
    await stream.waitForEvent("tui.prompt.append", (p) => p.text === "hello tui")
    for (const [path, command] of [
      ["/tui/open-help", "help.show"],
      ["/tui/open-sessions", "session.list"],
      ["/tui/open-themes", "session.list"],
      ["/tui/open-models", "model.list"],
      ["/tui/submit-prompt", "prompt.submit"],
      ["/tui/clear-prompt", "prompt.clear"],
    ] as const) {
      await post(path)
      await stream.waitForEvent("tui.command.execute", (p) => p.command === command)
    }
    await post("/tui/execute-command", { command: "agent_cycle" })
    await stream.waitForEvent("tui.command.execute", (p) => p.command === "agent.cycle")
    await post("/tui/execute-command", { command: "session_new" })
    await stream.waitForEvent("tui.command.execute", (p) => p.command === "session.new")
    await post("/tui/show-toast", { title: "T", message: "toasted", variant: "success", duration: 1000 })
    const toast = await stream.waitForEvent("tui.toast.show", (p) => p.message === "toasted")
    expect(toast.payload!.properties).toEqual({ title: "T", message: "toasted", variant: "success", duration: 1000 })
    await post("/tui/publish", { type: "tui.prompt.append", properties: { text: "published" } })
    await stream.waitForEvent("tui.prompt.append", (p) => p.text === "published")
    await post("/tui/select-session", { sessionID: session.id })
    await stream.waitForEvent("tui.session.select", (p) => p.sessionID === session.id)
  })

  test("TUI routes validate: bad toast, non-tui publish, unknown session", async () => {
    const directory = uniqueDirectory("tui-bad")
    expectNamedError(await api(target(), "POST", "/tui/show-toast", { directory, body: { message: "m", variant: "loud" } }), 400, "BadRequest")
    expectNamedError(
      await api(target(), "POST", "/tui/publish", { directory, body: { type: "session.idle", properties: { sessionID: "ses_x" } } }),
      400,
      "BadRequest",
    )
    expectNamedError(await api(target(), "POST", "/tui/append-prompt", { directory, body: {} }), 400, "BadRequest")
    expectNamedError(
      await api(target(), "POST", "/tui/select-session", { directory, body: { sessionID: "ses_doesnotexist" } }),
      404,
      "NotFoundError",
    )
  })

  test("control queue: next times out empty (204), a response with nothing waiting is accepted", async () => {
    const next = await api(target(), "GET", "/tui/control/next?timeout=200")
    expect(next.status, next.text).toBe(204)
    expect(next.text).toBe("")
    const response = await api(target(), "POST", "/tui/control/response", { body: { anything: 1 } })
    expect({ status: response.status, json: response.json }).toEqual({ status: 200, json: true })
    expectNamedError(await api(target(), "GET", "/tui/control/next?timeout=-1"), 400, "BadRequest")
  })

  test("control round trip: a request waits until the TUI fetches it (next) and answers it (response)", async () => {
    const request = api(target(), "POST", "/tui/control/request", {
      body: { path: "/tui/open-help", body: { reason: "round trip" }, timeout: 20_000 },
    })
    const next = await until(async () => {
      const polled = await api(target(), "GET", "/tui/control/next?timeout=1000")
      return polled.status === 200 ? polled : undefined
    })
    expect(next.json).toEqual({ path: "/tui/open-help", body: { reason: "round trip" } })
    const answered = await api(target(), "POST", "/tui/control/response", { body: { opened: "help" } })
    expect({ status: answered.status, json: answered.json }).toEqual({ status: 200, json: true })
    const result = await request
    expect({ status: result.status, json: result.json }, result.text).toEqual({ status: 200, json: { opened: "help" } })
  })

  test("control request: a TUI's late answer to a request that timed out goes to that request, not the next", async () => {
    const first = api(target(), "POST", "/tui/control/request", { body: { path: "/tui/first", timeout: 300 } })
    const taken = await until(async () => {
      const polled = await api(target(), "GET", "/tui/control/next?timeout=1000")
      return polled.status === 200 ? polled : undefined
    })
    expect(taken.json.path).toBe("/tui/first")
    expectNamedError(await first, 504, "TuiControlTimeoutError")

    // The TUI takes the second request, then answers the first (late), then the second.
    const second = api(target(), "POST", "/tui/control/request", { body: { path: "/tui/second", timeout: 20_000 } })
    const next = await until(async () => {
      const polled = await api(target(), "GET", "/tui/control/next?timeout=1000")
      return polled.status === 200 ? polled : undefined
    })
    expect(next.json.path).toBe("/tui/second")
    expect((await api(target(), "POST", "/tui/control/response", { body: "late answer to first" })).json).toBe(true)
    await api(target(), "POST", "/tui/control/response", { body: "answer to second" })
    expect((await second).json).toBe("answer to second")
  })

  test("control request: 504 TuiControlTimeoutError when no TUI answers, 400 for a bad request", async () => {
    expectNamedError(await api(target(), "POST", "/tui/control/request", { body: { path: "/tui/open-help", timeout: 100 } }), 504, "TuiControlTimeoutError")
    expect((await api(target(), "GET", "/tui/control/next?timeout=0")).status).toBe(204)
    expectNamedError(await api(target(), "POST", "/tui/control/request", { body: { path: "tui/open-help" } }), 400, "BadRequest")
    expectNamedError(await api(target(), "POST", "/tui/control/request", { body: { path: "/x", timeout: 0 } }), 400, "BadRequest")
  })

  test("every tui, question and permission route is in /doc", async () => {
    const doc = (await api(target(), "GET", "/doc")).json
    const operations = Object.fromEntries(
      Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation.operationId]),
      ),
    )
    expect(operations).toMatchObject({
      "POST /tui/append-prompt": "tui.appendPrompt",
      "POST /tui/open-help": "tui.openHelp",
      "POST /tui/open-sessions": "tui.openSessions",
      "POST /tui/open-themes": "tui.openThemes",
      "POST /tui/open-models": "tui.openModels",
      "POST /tui/submit-prompt": "tui.submitPrompt",
      "POST /tui/clear-prompt": "tui.clearPrompt",
      "POST /tui/execute-command": "tui.executeCommand",
      "POST /tui/show-toast": "tui.showToast",
      "POST /tui/publish": "tui.publish",
      "POST /tui/select-session": "tui.selectSession",
      "GET /tui/control/next": "tui.control.next",
      "POST /tui/control/response": "tui.control.response",
      "POST /tui/control/request": "tui.control.request",
      "GET /question": "question.list",
      "GET /question/{requestID}": "question.get",
      "POST /question/{requestID}/answer": "question.answer",
      "POST /question/{requestID}/reply": "question.reply",
      "POST /question/{requestID}/reject": "question.reject",
      "GET /permission": "permission.list",
      "POST /permission/{requestID}/reply": "permission.reply",
      "POST /session/{id}/permissions/{permissionID}": "permission.respond",
    })
  })

  test("questions and permissions: empty lists, unknown ids answer 404", async () => {
    const directory = uniqueDirectory("asks")
    const client = sdk(target(), directory)
    expect((await api(target(), "GET", "/question", { directory })).json).toEqual([])
    expect((await api(target(), "GET", "/permission", { directory })).json).toEqual([])
    expectNamedError(await api(target(), "GET", "/question/que_missing", { directory }), 404, "NotFoundError")
    expectNamedError(await api(target(), "POST", "/question/que_missing/reply", { directory, body: { answers: [["a"]] } }), 404, "NotFoundError")
    expectNamedError(await api(target(), "POST", "/question/que_missing/answer", { directory, body: { answers: [] } }), 404, "NotFoundError")
    expectNamedError(await api(target(), "POST", "/question/que_missing/reject", { directory }), 404, "NotFoundError")
    expectNamedError(await api(target(), "POST", "/question/que_missing/reply", { directory, body: { answers: "a" } }), 400, "BadRequest")
    expectNamedError(await api(target(), "POST", "/permission/per_missing/reply", { directory, body: { reply: "once" } }), 404, "NotFoundError")
    expectNamedError(await api(target(), "POST", "/permission/per_missing/reply", { directory, body: { reply: "maybe" } }), 400, "BadRequest")
    const session = (await client.session.create({ body: {} })).data!
    const v1 = await client.postSessionIdPermissionsPermissionId({
      path: { id: session.id, permissionID: "per_missing" },
      body: { response: "once" },
    })
    expect(v1.response.status).toBe(404)
  })
})
