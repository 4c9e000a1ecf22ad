import { mkdirSync, rmSync } from "node:fs"
import { dirname } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, sdk, text, useTarget } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { connect, type SseStream } from "../support/sse.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

/**
 * Agent turns against the scripted model server, on both runtimes: the same prompts, the same events and
 * stored shapes (upstream 1.18's, see ../shared/docs/agent-turn.md).
 */

/** The provider entry of the scripted model, in the format `npm` speaks. */
const providerConfig = (model: ModelServer, npm?: "@ai-sdk/openai-compatible" | "@ai-sdk/anthropic") => fakeProviderConfig(model.baseURL, npm).provider.fake

type Frame = { type: string; properties: any }

/** The events of one session, in order, from a directory stream. */
function sessionEvents(stream: SseStream, sessionID: string): Frame[] {
  return stream
    .events()
    .map((frame) => frame.payload!)
    .filter((event) => event && (event.properties?.sessionID === sessionID || event.properties?.info?.sessionID === sessionID || event.properties?.part?.sessionID === sessionID))
}

/** A compact trace of a turn: `type` plus what tells its events apart. */
function trace(events: Frame[]): string[] {
  return events.flatMap((event) => {
    const p = event.properties
    switch (event.type) {
      case "message.updated":
        return [`message.updated ${p.info.role}${p.info.finish ? ` finish=${p.info.finish}` : ""}${p.info.time.completed ? " completed" : ""}${p.info.error ? ` error=${p.info.error.name}` : ""}`]
      case "message.part.updated":
        // A streaming part's interim updates (the seed's form, with `delta`) come and go with the chunking.
        if (p.delta !== undefined && p.part.time?.end === undefined) return []
        return [`part ${p.part.type}${p.part.type === "tool" ? `:${p.part.state.status}` : ""}`]
      case "message.part.delta":
        return ["delta"]
      case "session.status":
        return [`status ${p.status.type}`]
      default:
        return [event.type]
    }
  })
}

/** Collapses repeated delta lines so traces compare whatever the chunking. */
const squash = (lines: string[]) => lines.filter((line, i) => !(line === "delta" && lines[i - 1] === "delta"))

describe.each(targetKinds())("agent turns [%s]", (kind) => {
  const target = useTarget(kind)
  let model: ModelServer

  beforeAll(async () => {
    model = await startModelServer()
    const configured = await api(target(), "PATCH", "/config", {
      body: { provider: { fake: providerConfig(model) }, model: "fake/fake-1", small_model: "fake/fake-1", permission: { bash: "allow", edit: "allow" } },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  const made: string[] = []
  afterAll(async () => {
    await model?.close()
    for (const directory of made) rmSync(dirname(directory), { recursive: true, force: true })
  })

  async function newSession(t: Target, label: string, permission?: Array<{ permission: string; pattern: string; action: string }>) {
    const directory = uniqueDirectory(label)
    mkdirSync(directory, { recursive: true })
    made.push(directory)
    const client = sdk(t, directory)
    const session = (await api(t, "POST", "/session", { directory, body: permission ? { permission } : {} })).json
    const stream = await connect(`${t.url}/event?directory=${encodeURIComponent(directory)}`, { headers: t.authHeaders })
    return { directory, client, session, stream }
  }

  test("a plain turn: streamed text, events in upstream's order, tokens and cost, a generated title", async () => {
    const { client, session, stream } = await newSession(target(), "plain")
    model.script({ text: ["Hel", "lo ", "there"], usage: { input: 100, output: 20 } })
    const reply = await client.session.prompt({ path: { id: session.id }, body: { parts: [text("say hello")] } })
    expect(reply.response.status).toBe(200)
    const { info, parts } = reply.data as any
    expect(info).toMatchObject({ role: "assistant", providerID: "fake", modelID: "fake-1", mode: "build", agent: "build", finish: "stop" })
    expect(info.time.completed).toBeGreaterThanOrEqual(info.time.created)
    expect(info.tokens).toMatchObject({ input: 100, output: 20, reasoning: 0, cache: { read: 0, write: 0 } })
    expect(info.cost).toBeCloseTo((100 * 3 + 20 * 15) / 1e6, 10)
    expect(parts.map((part: any) => part.type)).toEqual(["step-start", "text", "step-finish"])
    expect(parts[1]).toMatchObject({ text: "Hello there", time: { start: expect.any(Number), end: expect.any(Number) } })
    expect(parts[2]).toMatchObject({ reason: "stop", tokens: { input: 100, output: 20 } })
    // as upstream's, the reply comes once the session is idle again
    expect((await client.session.status()).data![session.id]).toBeUndefined()

    await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id)
    // With a machine the turn took snapshots: its summary (session.diff, the prompt's diffs) comes as it goes idle.
    const snapshots = kind === "local"
    const events = sessionEvents(stream, session.id)
    const lines = squash(trace(events).filter((line) => line !== "session.updated"))
    expect(lines).toEqual([
      "message.updated user",
      "part text",
      "status busy",
      "message.updated assistant",
      "part step-start",
      "part text",
      "delta",
      "part text",
      "part step-finish",
      "message.updated assistant finish=stop",
      "message.updated assistant finish=stop completed",
      ...(snapshots ? ["session.diff", "message.updated user"] : []),
      "status idle",
      "session.idle",
    ])
    const deltas = events.filter((event) => event.type === "message.part.delta").map((event) => event.properties.delta)
    expect(deltas.join("")).toBe("Hello there")
    // the seed's form: message.part.updated carrying `delta`, whose deltas add up to the text too
    const seedDeltas = events.filter((event) => event.type === "message.part.updated" && event.properties.part.id === parts[1].id)
    expect(seedDeltas.map((event) => event.properties.delta ?? "").join("")).toBe("Hello there")
    expect(events.find((event) => event.type === "message.part.delta")!.properties).toMatchObject({ messageID: info.id, partID: parts[1].id, field: "text" })

    // the title comes from its own model request, in parallel with the turn
    const titled = await stream.waitForEvent("session.updated", (p) => p.info.id === session.id && p.info.title === "Scripted title")
    expect(titled).toBeDefined()
    const stored = (await client.session.get({ path: { id: session.id } })).data!
    expect(stored).toMatchObject({ title: "Scripted title", cost: info.cost, tokens: { input: 100, output: 20 } })
    const request = model.requests.find((r) => r.kind === "step")!
    expect(request.body.messages.at(-1)).toMatchObject({ role: "user" })
    expect(JSON.stringify(request.body.messages.at(-1))).toContain("say hello")
    expect(request.body.tools.map((t: any) => t.function.name)).toEqual(expect.arrayContaining(["read", "bash", "edit", "glob", "grep", "write"]))
    stream.close()
  })

  test("a bash tool call runs on the machine and its result goes back to the model", async () => {
    const { client, session, stream } = await newSession(target(), "bash")
    model.script({ toolCalls: [{ name: "bash", input: { command: "echo machine-says-$((40+2))", description: "Say 42" } }] }, { text: "It said 42." })
    const reply = await client.session.prompt({ path: { id: session.id }, body: { parts: [text("run it")] } })
    const { info } = reply.data as any
    expect(info).toMatchObject({ finish: "stop" })
    await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id)
    const messages = (await client.session.messages({ path: { id: session.id } })).data as any[]
    expect(messages.map((m) => `${m.info.role}:${m.info.finish ?? ""}`)).toEqual(["user:", "assistant:tool-calls", "assistant:stop"])
    const tool = messages[1].parts.find((part: any) => part.type === "tool")
    const machine = kind === "local"
    if (machine) {
      expect(tool.state, tool.state.error).toMatchObject({ status: "completed", input: { command: "echo machine-says-$((40+2))" }, title: "Say 42" })
      expect(tool.state.output).toContain("machine-says-42")
    } else {
      // no machine is paired with this edge: the call fails, the model is told, and the turn goes on
      expect(tool.state).toMatchObject({ status: "error" })
      expect(tool.state.error).toMatch(/machine/i)
    }
    expect(messages[2].info.parentID).toBe(messages[0].info.id)
    const followUp = model.requests.filter((r) => r.kind === "step").at(-1)!
    const toolResult = followUp.body.messages.find((m: any) => m.role === "tool")
    expect(toolResult.tool_call_id).toBe(tool.callID)
    expect(String(toolResult.content)).toContain(machine ? "machine-says-42" : "achine")

    const lines = squash(trace(sessionEvents(stream, session.id)).filter((line) => line !== "session.updated"))
    const first = lines.indexOf("part tool:pending")
    expect(lines.slice(first, first + 3)).toEqual(["part tool:pending", "part tool:running", `part tool:${machine ? "completed" : "error"}`])
    expect(lines.slice(first + 3, first + 6)).toEqual([
      "part step-finish",
      "message.updated assistant finish=tool-calls",
      "message.updated assistant finish=tool-calls completed",
    ])
    stream.close()
  })

  test("a prompt to a busy session is queued and answered after the running turn; abort keeps the streamed text", async () => {
    const { client, session, stream } = await newSession(target(), "queue")
    model.script({ text: ["first ", "part ", "of ", "a ", "slow ", "reply"], chunkDelayMs: 400 }, { text: "second answer" })
    const first = client.session.prompt({ path: { id: session.id }, body: { parts: [text("one")] } })
    await stream.waitForEvent("message.part.delta", (p) => p.sessionID === session.id)
    const queued = await api(target(), "POST", `/session/${session.id}/prompt_async`, { body: { parts: [text("two")] } })
    expect(queued.status, queued.text).toBe(204)
    const [answer] = await Promise.all([first])
    expect((answer.data as any).info.finish).toBe("stop")
    await stream.waitFor((frame) => frame.payload?.type === "message.part.updated" && frame.payload.properties.part.text === "second answer")
    await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id)
    const messages = (await client.session.messages({ path: { id: session.id } })).data as any[]
    expect(messages.map((m) => m.info.role)).toEqual(["user", "assistant", "user", "assistant"])
    expect(messages[3].info.parentID).toBe(messages[2].info.id)

    // abort mid-stream: what was streamed stays, the message says it was aborted, the session idles
    model.script({ text: ["kept ", "text ", "and ", "never ", "this"], chunkDelayMs: 1_000 })
    const aborted = client.session.prompt({ path: { id: session.id }, body: { parts: [text("three")] } })
    const delta = stream.frames.length
    await stream.waitFor((frame) => frame.payload?.type === "message.part.delta" && frame.payload.properties.delta === "text ", { from: delta })
    const abort = await api(target(), "POST", `/session/${session.id}/abort`)
    expect(abort.json, `${abort.status} ${abort.text}`).toBe(true)
    const result = (await aborted).data as any
    expect(result.info.error).toMatchObject({ name: "MessageAbortedError" })
    // what had streamed when the abort landed (a loaded machine may have taken one more chunk), never the rest
    const kept = result.parts.find((part: any) => part.type === "text").text
    expect(kept.startsWith("kept text ")).toBe(true)
    expect(kept).not.toContain("this")
    await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id, delta)
    expect((await client.session.status()).data![session.id]).toBeUndefined()
    stream.close()
  })

  test("permission rules in a turn: ask answered over HTTP releases the call; reject ends the turn; deny is an error the model sees", async () => {
    const todos = { todos: [{ id: "1", content: "write the tests", status: "pending", priority: "high" }] }
    const { client, session, stream } = await newSession(target(), "permission", [
      { permission: "todowrite", pattern: "*", action: "ask" },
      { permission: "read", pattern: "secret*", action: "deny" },
    ])
    model.script({ toolCalls: [{ name: "todowrite", input: todos }] }, { text: "noted" })
    const turn = client.session.prompt({ path: { id: session.id }, body: { parts: [text("plan it")] } })
    const asked = await stream.waitForEvent("permission.asked", (p) => p.sessionID === session.id)
    const pendingCall = (await client.session.messages({ path: { id: session.id } })).data!.flatMap((m: any) => m.parts).find((part: any) => part.type === "tool")
    expect(asked.payload!.properties).toMatchObject({ permission: "todowrite", tool: { messageID: pendingCall.messageID, callID: pendingCall.callID } })
    expect(pendingCall.state.status).toBe("running")
    const replied = await api(target(), "POST", `/permission/${asked.payload!.properties.id}/reply`, { body: { reply: "once" } })
    expect(replied.status, replied.text).toBe(200)
    expect(((await turn).data as any).info).toMatchObject({ finish: "stop" })
    const messages = (await client.session.messages({ path: { id: session.id } })).data as any[]
    expect(messages[1].parts.find((part: any) => part.type === "tool").state).toMatchObject({ status: "completed", metadata: { todos: [{ content: "write the tests", status: "pending" }] } })

    // reject: the call fails and the turn ends there, without asking the model again
    const steps = model.requests.filter((r) => r.kind === "step").length
    model.script({ toolCalls: [{ name: "todowrite", input: todos }] }, { text: "never sent" })
    const from = stream.frames.length
    const rejectedTurn = client.session.prompt({ path: { id: session.id }, body: { parts: [text("again")] } })
    const again = await stream.waitForEvent("permission.asked", (p) => p.sessionID === session.id, from)
    await api(target(), "POST", `/permission/${again.payload!.properties.id}/reply`, { body: { reply: "reject", message: "not now" } })
    const rejected = (await rejectedTurn).data as any
    expect(rejected.info.finish).toBe("tool-calls")
    expect(rejected.parts.find((part: any) => part.type === "tool").state).toMatchObject({ status: "error", error: expect.stringContaining("not now") })
    expect(model.requests.filter((r) => r.kind === "step").length).toBe(steps + 1)
    // the reply the rejected turn never asked for answers the next prompt
    await client.session.prompt({ path: { id: session.id }, body: { parts: [text("flush")] } })

    // deny: the model is told and goes on
    model.script({ toolCalls: [{ name: "read", input: { filePath: "secrets.env" } }] }, { text: "cannot read it" })
    const denied = (await client.session.prompt({ path: { id: session.id }, body: { parts: [text("read the secrets")] } })).data as any
    expect(denied.info.finish).toBe("stop")
    const all = (await client.session.messages({ path: { id: session.id } })).data as any[]
    const readCall = all.flatMap((m) => m.parts).findLast((part: any) => part.type === "tool")
    expect(readCall.state).toMatchObject({ status: "error", error: expect.stringContaining("PermissionDeniedError") })
    const told = model.requests.filter((r) => r.kind === "step").at(-1)!.body.messages.find((m: any) => m.role === "tool" && m.tool_call_id === readCall.callID)
    expect(String(told.content)).toContain("may not read")
    stream.close()
  })

  test("the task tool runs a subagent in a child session and returns its final text", async () => {
    const { client, session, stream } = await newSession(target(), "task")
    model.script(
      { toolCalls: [{ name: "task", input: { description: "Survey the code", prompt: "List what you find", subagent_type: "general" } }] },
      { text: ["the child ", "found three files"] },
      { text: "Summary: three files." },
    )
    const reply = (await client.session.prompt({ path: { id: session.id }, body: { parts: [text("delegate it")] } })).data as any
    expect(reply.parts.find((part: any) => part.type === "text").text).toBe("Summary: three files.")
    const children = (await client.session.children({ path: { id: session.id } })).data!
    expect(children).toHaveLength(1)
    expect(children[0]).toMatchObject({ parentID: session.id, title: "Survey the code (@general subagent)" })
    const messages = (await client.session.messages({ path: { id: session.id } })).data as any[]
    const task = messages[1].parts.find((part: any) => part.type === "tool")
    expect(task.state).toMatchObject({ status: "completed", title: "Survey the code", metadata: { sessionId: children[0]!.id } })
    expect(task.state.output).toContain("the child found three files")
    const child = (await client.session.messages({ path: { id: children[0]!.id } })).data as any[]
    expect(child.map((m) => m.info.role)).toEqual(["user", "assistant"])
    expect(child[1].info).toMatchObject({ agent: "general", providerID: "fake", modelID: "fake-1" })
    // the subagent's own request offered no task tool: subagents do not nest
    const childRequest = model.requests.filter((r) => r.kind === "step").at(-2)!
    expect(JSON.stringify(childRequest.body.messages)).toContain("List what you find")
    expect(childRequest.body.tools.map((t: any) => t.function.name)).not.toContain("task")
    stream.close()
  })

  test("format json_schema: the answer is checked, asked for again once wrong, and fills `structured`", async () => {
    const { client, session, stream } = await newSession(target(), "structured")
    const schema = { type: "object", properties: { count: { type: "number" } }, required: ["count"] }
    model.script({ text: "There are three." }, { text: '{"count": 3}' })
    const reply = (await client.session.prompt({ path: { id: session.id }, body: { format: { type: "json_schema", schema }, parts: [text("how many?")] } as any })).data as any
    expect(reply.info.structured).toEqual({ count: 3 })
    expect(reply.info.error).toBeUndefined()
    const corrected = model.requests.filter((r) => r.kind === "step").at(-1)!
    expect(JSON.stringify(corrected.body.messages[0])).toContain("did not match the required JSON Schema")

    model.script({ text: '{"count": "many"}' })
    const failed = (await client.session.prompt({ path: { id: session.id }, body: { format: { type: "json_schema", schema, retryCount: 0 }, parts: [text("again?")] } as any }))
      .data as any
    expect(failed.info.error).toMatchObject({ name: "StructuredOutputError", data: { retries: 0 } })
    expect(failed.info.structured).toBeUndefined()
    stream.close()
  })

  test("tools maps switch tools off; an agent's steps limit ends with one last step without tools", async () => {
    const configured = await api(target(), "PATCH", "/config", { body: { agent: { brief: { mode: "primary", steps: 2, tools: { "todo*": false } } } } })
    expect(configured.status, configured.text).toBe(200)
    const { client, session, stream } = await newSession(target(), "tools")
    const offered = () => model.requests.filter((r) => r.kind === "step").at(-1)!.body.tools?.map((t: any) => t.function.name) ?? []

    model.script({ text: "fine" })
    await client.session.prompt({ path: { id: session.id }, body: { tools: { bash: false, "gr*": false }, parts: [text("no bash")] } })
    expect(offered()).not.toContain("bash")
    expect(offered()).not.toContain("grep")
    expect(offered()).toContain("read")

    // the brief agent may take 2 steps: the second is the last, offered no tools and told so
    model.script({ toolCalls: [{ name: "list", input: {} }] }, { text: "stopping here" })
    const reply = (await client.session.prompt({ path: { id: session.id }, body: { agent: "brief", parts: [text("work")] } })).data as any
    expect(reply.info).toMatchObject({ agent: "brief", finish: "stop" })
    const steps = model.requests.filter((r) => r.kind === "step").slice(-2)
    expect(steps[0]!.body.tools.map((t: any) => t.function.name)).not.toContain("todowrite")
    expect(steps[1]!.body.tools).toBeUndefined()
    expect(JSON.stringify(steps[1]!.body.messages[0])).toContain("most steps this turn may take")
    stream.close()
  })

  test("429 with retry-after is retried (status retry), then the turn succeeds", async () => {
    const { client, session, stream } = await newSession(target(), "retry")
    model.script({ error: { status: 429, message: "slow down", headers: { "retry-after": "0" } } }, { text: "made it" })
    const reply = await client.session.prompt({ path: { id: session.id }, body: { parts: [text("try")] } })
    expect((reply.data as any).info).toMatchObject({ finish: "stop" })
    expect((reply.data as any).info.error).toBeUndefined()
    const retry = sessionEvents(stream, session.id).find((event) => event.type === "session.status" && event.properties.status.type === "retry")
    expect(retry?.properties.status).toMatchObject({ attempt: 1, message: expect.stringContaining("slow down"), next: expect.any(Number) })
    stream.close()
  })

  test("model errors end the message with upstream's NamedErrors; an unknown model is a 400", async () => {
    const { client, session, stream } = await newSession(target(), "errors")
    model.script({ error: { status: 401, message: "bad key" } })
    const unauthorized = (await client.session.prompt({ path: { id: session.id }, body: { parts: [text("a")] } })).data as any
    expect(unauthorized.info.error).toMatchObject({ name: "APIError", data: { statusCode: 401, isRetryable: false, message: expect.stringContaining("bad key") } })
    await stream.waitForEvent("session.error", (p) => p.sessionID === session.id && p.error?.name === "APIError")

    model.script({ cut: { after: "partial an" } })
    const cut = (await client.session.prompt({ path: { id: session.id }, body: { parts: [text("b")] } })).data as any
    expect(cut.info.error).toMatchObject({ name: "APIError" })
    expect(cut.parts.find((part: any) => part.type === "text")?.text).toContain("partial")

    // the failed steps are left out of the history the model reads next; the prompts stay
    model.script({ text: "recovered" })
    await client.session.prompt({ path: { id: session.id }, body: { parts: [text("after the errors")] } })
    const history = model.requests.filter((r) => r.kind === "step").at(-1)!.body.messages
    expect(history.filter((m: any) => m.role === "user").map((m: any) => JSON.stringify(m.content))).toHaveLength(3)
    expect(history.some((m: any) => m.role === "assistant")).toBe(false)

    const before = (await client.session.messages({ path: { id: session.id } })).data!.length
    const unknown = await api(target(), "POST", `/session/${session.id}/message`, {
      body: { model: { providerID: "fake", modelID: "no-such-model" }, parts: [text("c")] },
    })
    expectNamedError(unknown, 400, "ProviderModelNotFoundError")
    expect((await client.session.messages({ path: { id: session.id } })).data!.length).toBe(before)
    stream.close()
  })

  test("the Anthropic Messages format: reasoning and text stream into their parts", async () => {
    await api(target(), "PATCH", "/config", { body: { provider: { claudeish: providerConfig(model, "@ai-sdk/anthropic") } } })
    const { client, session, stream } = await newSession(target(), "anthropic")
    model.script({ reasoning: ["Thinking ", "hard"], text: ["Answer ", "here"], usage: { input: 40, output: 9, reasoning: 3 } })
    const reply = await client.session.prompt({
      path: { id: session.id },
      body: { model: { providerID: "claudeish", modelID: "fake-1" }, parts: [text("think")] },
    })
    const { info, parts } = reply.data as any
    expect(info).toMatchObject({ providerID: "claudeish", finish: "stop" })
    expect(parts.filter((part: any) => part.type !== "step-start" && part.type !== "step-finish").map((part: any) => [part.type, part.text])).toEqual([
      ["reasoning", "Thinking hard"],
      ["text", "Answer here"],
    ])
    expect(info.tokens).toMatchObject({ input: 40, reasoning: 3 })
    expect(model.requests.at(-1)!.format).toBe("anthropic")
    stream.close()
  })
})
