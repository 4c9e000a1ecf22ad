import { mkdtempSync, realpathSync, writeFileSync } from "node:fs"
import { rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, test } from "vitest"
import { api, expectNamedError, until, useTarget } from "../support/http.ts"
import { connect } from "../support/sse.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"
import { TOOLS } from "../../shared/tools.ts"

/**
 * The tool routes on both runtimes: the same static listing; machine tools need a machine (503 on the edge
 * without one), server tools (question, todowrite, todoread) run on either for a session. The permission
 * rules around machine tools are tested where a machine is: test/local/tools.test.ts and test/edge/tunnel.test.ts;
 * webfetch, which needs no session, in test/conformance/webfetch.test.ts.
 */

async function createSession(target: Target): Promise<string> {
  const created = await api(target, "POST", "/session", { directory, body: {} })
  expect(created.status, created.text).toBe(200)
  return created.json.id as string
}

/** Starts a tool call that will wait for the user; the caller awaits it after answering. */
function execute(target: Target, toolID: string, sessionID: string, args: unknown) {
  return api(target, "POST", `/tool/${toolID}/execute?sessionID=${sessionID}`, { directory, body: args })
}

/** The session's pending question, once the waiting call has stored it. */
function pendingQuestion(target: Target, sessionID: string, where = directory) {
  return until(async () => {
    const listed = (await api(target, "GET", "/question", { directory: where })).json as { id: string; sessionID: string }[]
    return listed.find((request) => request.sessionID === sessionID)
  })
}

const QUESTION = {
  question: "Which database should the service use?",
  header: "Database",
  options: [
    { label: "SQLite", description: "One file, no server" },
    { label: "Postgres", description: "A server of its own" },
  ],
}

const directory = realpathSync(mkdtempSync(join(tmpdir(), "oc-tool-conformance-")))
writeFileSync(join(directory, "README.md"), "hello tools\n")
afterAll(() => rm(directory, { recursive: true, force: true }))

describe.each(targetKinds())("tools [%s]", (kind) => {
  const target = useTarget(kind)

  test("GET /tool, /experimental/tool/ids and /experimental/tool: the same built-in tools", async () => {
    const tools = await api(target(), "GET", "/tool")
    expect(tools.status, tools.text).toBe(200)
    expect(tools.json).toEqual(JSON.parse(JSON.stringify(TOOLS)))
    const ids = await api(target(), "GET", "/experimental/tool/ids")
    expect(ids.json).toEqual(["read", "list", "glob", "grep", "write", "edit", "bash", "question", "todowrite", "todoread", "task", "webfetch", "skill"])
    const experimental = await api(target(), "GET", "/experimental/tool?provider=p&model=m", { directory })
    expect(experimental.json).toEqual(tools.json)
  })

  test("POST /tool/:id/execute runs machine tools on the machine; 503 on the edge without one; 404 for unknown tools", async () => {
    const response = await api(target(), "POST", "/tool/read/execute", { body: { filePath: "README.md" }, directory })
    expectNamedError(await api(target(), "POST", "/tool/teleport/execute", { body: {}, directory }), 404, "NotFoundError")
    if (kind === "worker") {
      expectNamedError(response, 503, "MachineUnavailable")
      return
    }
    expect(response.status, response.text).toBe(200)
    expect(response.json).toEqual({ title: "README.md", output: expect.stringContaining("00001| hello tools"), metadata: expect.any(Object) })
  })

  test("the question tool waits until the question is answered through HTTP, then returns the answers", async () => {
    const sessionID = await createSession(target())
    const events = await connect(`${target().url}/session/${sessionID}/event`, { headers: target().authHeaders })
    try {
      const call = execute(target(), "question", sessionID, { questions: [QUESTION] })
      const asked = await events.waitForEvent("question.asked", (p) => p.sessionID === sessionID)
      const pending = await pendingQuestion(target(), sessionID)
      expect(pending).toEqual({ id: asked.payload!.properties.id, sessionID, questions: [QUESTION] })
      const replied = await api(target(), "POST", `/question/${pending.id}/reply`, { directory, body: { answers: [["Postgres"]] } })
      expect({ status: replied.status, json: replied.json }).toEqual({ status: 200, json: true })
      const result = await call
      expect(result.status, result.text).toBe(200)
      expect(result.json).toEqual({
        title: "Asked 1 question",
        output: `User has answered your questions: "${QUESTION.question}"="Postgres". You can now continue with the user's answers in mind.`,
        metadata: { answers: [["Postgres"]] },
      })
      const repliedEvent = await events.waitForEvent("question.replied", (p) => p.requestID === pending.id)
      expect(repliedEvent.payload!.properties).toEqual({ sessionID, requestID: pending.id, answers: [["Postgres"]] })
      expect((await api(target(), "GET", "/question", { directory })).json).toEqual([])
      expectNamedError(await api(target(), "GET", `/question/${pending.id}`, { directory }), 404, "NotFoundError")
    } finally {
      events.close()
    }
  })

  test("the seed's routes: GET /question/:id shows the pending question, POST /question/:id/answer releases the call", async () => {
    const sessionID = await createSession(target())
    const call = execute(target(), "question", sessionID, { questions: [QUESTION, { ...QUESTION, header: "Second", multiple: true }] })
    const pending = await pendingQuestion(target(), sessionID)
    const shown = await api(target(), "GET", `/question/${pending.id}`, { directory })
    expect(shown.json).toEqual(pending)
    const answered = await api(target(), "POST", `/question/${pending.id}/answer`, { directory, body: { answers: [["SQLite"], ["SQLite", "Postgres"]] } })
    expect(answered.status, answered.text).toBe(200)
    expect((await call).json.metadata).toEqual({ answers: [["SQLite"], ["SQLite", "Postgres"]] })
  })

  test("a rejected question ends the waiting tool call with QuestionRejectedError", async () => {
    const sessionID = await createSession(target())
    const events = await connect(`${target().url}/session/${sessionID}/event`, { headers: target().authHeaders })
    try {
      const call = execute(target(), "question", sessionID, { questions: [QUESTION] })
      const pending = await pendingQuestion(target(), sessionID)
      expect((await api(target(), "POST", `/question/${pending.id}/reject`, { directory })).status).toBe(200)
      expectNamedError(await call, 409, "QuestionRejectedError")
      const rejected = await events.waitForEvent("question.rejected", (p) => p.requestID === pending.id)
      expect(rejected.payload!.properties).toEqual({ sessionID, requestID: pending.id })
    } finally {
      events.close()
    }
  })

  test("disposing the instance (or every instance) withdraws its questions: the waiting call ends with RequestDisposedError", async () => {
    const disposed = uniqueDirectory("dispose-question")
    const session = await api(target(), "POST", "/session", { directory: disposed, body: {} })
    const sessionID = session.json.id as string
    const call = api(target(), "POST", `/tool/question/execute?sessionID=${sessionID}`, { directory: disposed, body: { questions: [QUESTION] } })
    await pendingQuestion(target(), sessionID, disposed)
    expect((await api(target(), "POST", "/instance/dispose", { directory: disposed })).status).toBe(200)
    expectNamedError(await call, 410, "RequestDisposedError")
    expect((await api(target(), "GET", "/question", { directory: disposed })).json).toEqual([])

    // POST /global/dispose withdraws every directory's.
    const again = api(target(), "POST", `/tool/question/execute?sessionID=${sessionID}`, { directory: disposed, body: { questions: [QUESTION] } })
    await pendingQuestion(target(), sessionID, disposed)
    expect((await api(target(), "POST", "/global/dispose")).status).toBe(200)
    expectNamedError(await again, 410, "RequestDisposedError")
    expect((await api(target(), "GET", "/question")).json).toEqual([])
  })

  test("server tools need a known session and valid arguments", async () => {
    const sessionID = await createSession(target())
    const body = { questions: [QUESTION] }
    expectNamedError(await api(target(), "POST", "/tool/question/execute", { directory, body }), 400, "BadRequest")
    expectNamedError(await execute(target(), "question", "ses_doesnotexist", body), 404, "NotFoundError")
    expectNamedError(await execute(target(), "question", sessionID, { questions: [] }), 400, "BadRequest")
    expectNamedError(await execute(target(), "todowrite", sessionID, { todos: [{ content: "x" }] }), 400, "BadRequest")
    expect((await api(target(), "GET", "/question", { directory })).json).toEqual([])
  })

  test("todowrite replaces the session's todo list (todo.updated, GET /session/:id/todo); todoread reads it", async () => {
    const sessionID = await createSession(target())
    const events = await connect(`${target().url}/session/${sessionID}/event`, { headers: target().authHeaders })
    try {
      const todos = [
        { content: "Write the migration", status: "completed", priority: "high" },
        { content: "Run it on staging", status: "pending", priority: "medium" },
      ]
      const written = await execute(target(), "todowrite", sessionID, { todos })
      expect(written.status, written.text).toBe(200)
      expect(written.json).toEqual({ title: "1 todos", output: JSON.stringify(todos, null, 2), metadata: { todos } })
      const updated = await events.waitForEvent("todo.updated", (p) => p.sessionID === sessionID)
      expect(updated.payload!.properties.todos).toEqual(todos)
      expect((await api(target(), "GET", `/session/${sessionID}/todo`, { directory })).json).toEqual(todos)
      expect((await execute(target(), "todoread", sessionID, {})).json).toEqual(written.json)
    } finally {
      events.close()
    }
  })

  test("every tool route is in /doc", async () => {
    const doc = (await api(target(), "GET", "/doc")).json
    expect(doc.paths["/tool"].get.operationId).toBe("tool.list.all")
    expect(doc.paths["/tool/{id}/execute"].post.operationId).toBe("tool.execute")
    expect(doc.paths["/tool/{id}/execute"].post.requestBody).toBeDefined()
    expect(Object.keys(doc.paths["/tool/{id}/execute"].post.responses).sort()).toEqual(["200", "400", "403", "404", "409", "410", "502", "503", "504"])
    expect(doc.paths["/tool/{id}/execute"].post.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["sessionID", "messageID", "callID"]),
    )
    expect(doc.paths["/experimental/tool/ids"].get.operationId).toBe("tool.ids")
    expect(doc.paths["/experimental/tool"].get.operationId).toBe("tool.list")
  })
})
