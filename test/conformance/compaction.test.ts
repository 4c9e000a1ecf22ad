import { rmSync } from "node:fs"
import { dirname } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, useTarget } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { sessionWithEvents } from "../support/session-events.ts"
import { targetKinds, type Target } from "../support/targets.ts"

/** `assistant summary` for a compaction's answer (a user message's `summary` holds its diffs, which is not one). */
const roleAndSummary = (entry: { info: { role: string; summary?: unknown } }) => `${entry.info.role}${entry.info.role === "assistant" && entry.info.summary === true ? " summary" : ""}`

/**
 * Compaction against the scripted model, on both runtimes (upstream 1.18's SessionCompaction): by route, automatically
 * when a step fills the model's context, and pruning of old tool outputs.
 */

const CONTINUE = "Continue if you have next steps, or stop and ask for clarification if you are unsure how to proceed."

/** The text the model was sent, message by message (role: text), from an OpenAI-format request body. */
function transcript(body: any): string[] {
  return body.messages.map((message: any) => {
    const content = typeof message.content === "string" ? message.content : (message.content ?? []).map((part: any) => part.text ?? "").join("")
    return `${message.role}: ${content}`
  })
}

describe.each(targetKinds())("compaction [%s]", (kind) => {
  const target = useTarget(kind)
  let model: ModelServer
  const made: string[] = []

  beforeAll(async () => {
    model = await startModelServer()
    const fake = fakeProviderConfig(model.baseURL).provider.fake
    // fake-tiny: 3,000 tokens of context less 1,000 of output leaves 2,000 for the prompt.
    const models = { ...fake.models, "fake-tiny": { name: "Fake tiny", tool_call: true, limit: { context: 3_000, output: 1_000 }, cost: { input: 0, output: 0 } } }
    const configured = await api(target(), "PATCH", "/config", {
      body: { provider: { fake: { ...fake, models } }, model: "fake/fake-1", small_model: "fake/fake-1", permission: { bash: "allow", edit: "allow", read: "allow" }, compaction: { prune: true } },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await model?.close()
    for (const directory of made) rmSync(dirname(directory), { recursive: true, force: true })
  })

  const newSession = (t: Target, label: string) => sessionWithEvents(t, label, made)

  const prompt = (t: Target, directory: string, sessionID: string, body: Record<string, unknown>) =>
    api(t, "POST", `/session/${sessionID}/message`, { directory, body })
  const messages = async (t: Target, directory: string, sessionID: string) => (await api(t, "GET", `/session/${sessionID}/message`, { directory })).json as any[]
  const stepRequests = () => model.requests.filter((request) => request.kind === "step")

  test("summarize by route: a compaction message, a summary without tools, session.compacted, and the next turn starts from the summary", async () => {
    const t = target()
    const { directory, session, stream } = await newSession(t, "summarize")
    model.script({ text: "Paris is the capital.", usage: { input: 50, output: 10 } })
    expect((await prompt(t, directory, session.id, { parts: [text("What is the capital of France?")] })).status).toBe(200)

    const before = stepRequests().length
    model.script({ text: "## Objective\n- Know the capital of France", usage: { input: 80, output: 12 } })
    const summarized = await api(t, "POST", `/session/${session.id}/summarize`, { directory, body: { providerID: "fake", modelID: "fake-1" } })
    expect(summarized.status, summarized.text).toBe(200)
    expect(summarized.json).toBe(true)

    const stored = await messages(t, directory, session.id)
    expect(stored.map((entry) => entry.info.role)).toEqual(["user", "assistant", "user", "assistant"])
    const [, , request, summary] = stored
    expect(request.parts).toEqual([expect.objectContaining({ type: "compaction", auto: false, messageID: request.info.id })])
    expect(request.info).toMatchObject({ agent: "build", model: { providerID: "fake", modelID: "fake-1" } })
    expect(summary.info).toMatchObject({ parentID: request.info.id, mode: "compaction", agent: "compaction", summary: true, finish: "stop", providerID: "fake", modelID: "fake-1" })
    expect(summary.info.error).toBeUndefined()
    expect(summary.parts.map((part: any) => part.type)).toEqual(["step-start", "text", "step-finish"])
    expect(summary.parts[1].text).toBe("## Objective\n- Know the capital of France")

    // The summary request: one user message rendering the history, upstream's prompt, no tools.
    const summaryRequest = stepRequests()[before]!
    expect(summaryRequest.body.tools ?? []).toEqual([])
    expect(summaryRequest.body.messages.filter((message: any) => message.role !== "system")).toHaveLength(1)
    const sent = transcript(summaryRequest.body).at(-1)!
    expect(sent).toContain("<conversation>\n[User]: What is the capital of France?\n\n[Assistant]: Paris is the capital.\n</conversation>")
    expect(sent).toContain("Create a new anchored summary from the conversation history")
    expect(sent).toContain("## Relevant Files")

    await stream.waitForEvent("session.compacted", (p) => p.sessionID === session.id)

    // The next turn reads the summary instead of what came before it.
    model.script({ text: "Berlin.", usage: { input: 60, output: 5 } })
    expect((await prompt(t, directory, session.id, { parts: [text("And Germany?")] })).status).toBe(200)
    const next = stepRequests().at(-1)!
    expect(transcript(next.body).filter((line) => !line.startsWith("system:"))).toEqual([
      "user: What did we do so far?",
      "assistant: ## Objective\n- Know the capital of France",
      "user: And Germany?",
    ])
    stream.close()
  })

  test("summarize after a revert drops the reverted messages first, as a prompt does, and summarizes what is left", async () => {
    const t = target()
    const { directory, session, stream } = await newSession(t, "summarize-reverted")
    model.script("Kept answer.", "Reverted answer.")
    // A revert needs the session idle, which follows each reply (the prompt's diff summary is written first).
    const askUntilIdle = async (ask: string) => {
      await prompt(t, directory, session.id, { parts: [text(ask)] })
      await until(async () => ((await api(t, "GET", "/session/status", { directory })).json[session.id]?.type === "busy" ? undefined : true))
    }
    await askUntilIdle("kept question")
    await askUntilIdle("reverted question")
    const [, , reverted] = await messages(t, directory, session.id)
    const revert = await api(t, "POST", `/session/${session.id}/revert`, { directory, body: { messageID: reverted.info.id } })
    expect(revert.status, revert.text).toBe(200)
    expect(revert.json.revert.messageID).toBe(reverted.info.id)

    const before = stepRequests().length
    model.script("## Objective\n- The kept question")
    const summarized = await api(t, "POST", `/session/${session.id}/summarize`, { directory, body: { providerID: "fake", modelID: "fake-1" } })
    expect(summarized.status, summarized.text).toBe(200)
    expect((await messages(t, directory, session.id)).map(roleAndSummary)).toEqual(["user", "assistant", "user", "assistant summary"])
    expect((await api(t, "GET", `/session/${session.id}`, { directory })).json.revert).toBeUndefined()
    const sent = transcript(stepRequests()[before]!.body).at(-1)!
    expect(sent).toContain("<conversation>\n[User]: kept question\n\n[Assistant]: Kept answer.\n</conversation>")
    await stream.waitForEvent("message.removed", (p) => p.sessionID === session.id && p.messageID === reverted.info.id)
    stream.close()
  })

  test("summarize answers NamedErrors: an unknown model is a 400, an unknown session a 404", async () => {
    const t = target()
    const { directory, session, stream } = await newSession(t, "summarize-errors")
    stream.close()
    expectNamedError(await api(t, "POST", `/session/${session.id}/summarize`, { directory, body: { providerID: "fake", modelID: "nope" } }), 400, "ProviderModelNotFoundError")
    expectNamedError(await api(t, "POST", `/session/ses_missing000000000000000000/summarize`, { directory, body: { providerID: "fake", modelID: "fake-1" } }), 404, "NotFoundError")
    const bad = await api(t, "POST", `/session/${session.id}/summarize`, { directory, body: { providerID: "fake" } })
    expect(bad.status).toBe(400)
    expect((await messages(t, directory, session.id)).length).toBe(0)
  })

  test("a step that fills the context is compacted automatically and the turn continues from the summary", async () => {
    const t = target()
    const { directory, session, stream } = await newSession(t, "auto")
    const before = stepRequests().length
    // todowrite runs on both runtimes without a machine.
    const milk = { content: "remember the milk", status: "pending", priority: "high" }
    model.script(
      { toolCalls: [{ name: "todowrite", input: { todos: [milk] } }], usage: { input: 2_100, output: 20 } },
      { text: "## Objective\n- Read the notes", usage: { input: 300, output: 20 } },
      { text: "The notes say: remember the milk.", usage: { input: 200, output: 10 } },
    )
    const reply = await prompt(t, directory, session.id, { parts: [text("Read my notes")], model: { providerID: "fake", modelID: "fake-tiny" } })
    expect(reply.status, reply.text).toBe(200)
    expect(reply.json.info).toMatchObject({ role: "assistant", finish: "stop", mode: "build" })
    expect(reply.json.parts.find((part: any) => part.type === "text").text).toBe("The notes say: remember the milk.")

    const stored = await messages(t, directory, session.id)
    expect(stored.map(roleAndSummary)).toEqual(["user", "assistant", "user", "assistant summary", "user", "assistant"])
    expect(stored[1].info.finish).toBe("tool-calls")
    expect(stored[2].parts).toEqual([expect.objectContaining({ type: "compaction", auto: true })])
    expect(stored[3].info).toMatchObject({ mode: "compaction", agent: "compaction", summary: true, modelID: "fake-tiny" })
    expect(stored[4].parts).toEqual([expect.objectContaining({ type: "text", synthetic: true, text: CONTINUE, metadata: { compaction_continue: true } })])
    expect(stored[5].info.parentID).toBe(stored[4].info.id)

    const [, summaryRequest, continued] = stepRequests().slice(before)
    const sent = transcript(summaryRequest!.body).at(-1)!
    expect(sent).toContain("[User]: Read my notes")
    expect(sent).toContain(`[Assistant tool call]: todowrite(${JSON.stringify({ todos: [milk] })})`)
    expect(sent).toContain('[Tool result]: [\n  {\n    "content": "remember the milk"')
    expect(transcript(continued!.body).filter((line) => !line.startsWith("system:"))).toEqual([
      "user: What did we do so far?",
      "assistant: ## Objective\n- Read the notes",
      `user: ${CONTINUE}`,
    ])
    await stream.waitForEvent("session.compacted", (p) => p.sessionID === session.id)
    stream.close()
  })

  test("a request the provider refuses as too large is compacted and asked again; with compaction.auto false it ends the turn", async () => {
    const t = target()
    const { directory, session, stream } = await newSession(t, "overflow")
    stream.close()
    model.script("First answer.")
    expect((await prompt(t, directory, session.id, { parts: [text("first question")] })).status).toBe(200)
    const tooLong = { error: { status: 400, message: "prompt is too long: 250000 tokens > 200000 maximum context length" } }
    model.script(tooLong, "## Objective\n- Answer questions", "Second answer.")
    const reply = await prompt(t, directory, session.id, { parts: [text("second question")] })
    expect(reply.status, reply.text).toBe(200)
    expect(reply.json.parts.find((part: any) => part.type === "text").text).toBe("Second answer.")
    const stored = await messages(t, directory, session.id)
    expect(stored.map(roleAndSummary)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant summary", "user", "assistant"])
    expect(stored[4].parts).toEqual([expect.objectContaining({ type: "compaction", auto: true, overflow: true })])
    // the summary covers what came before the refused prompt, which is asked again after it
    const summaryRequest = stepRequests().at(-2)!
    expect(transcript(summaryRequest.body).at(-1)).toContain("<conversation>\n[User]: first question\n\n[Assistant]: First answer.\n</conversation>")
    expect(stored[6].parts).toEqual([expect.objectContaining({ type: "text", text: "second question" })])

    const off = await api(t, "PATCH", "/config", { body: { compaction: { auto: false, prune: true } } })
    expect(off.status, off.text).toBe(200)
    try {
      model.script(tooLong)
      const refused = await prompt(t, directory, session.id, { parts: [text("third question")] })
      expect(refused.status, refused.text).toBe(200)
      expect(refused.json.info.error).toMatchObject({ name: "ContextOverflowError" })
    } finally {
      await api(t, "PATCH", "/config", { body: { compaction: { auto: true, prune: true } } })
    }
  })

  test("old tool outputs beyond the newest 40,000 tokens are pruned and read as cleared", async () => {
    const t = target()
    const { directory, session, stream } = await newSession(t, "prune")
    stream.close()
    // About 22,500 estimated tokens per output (todowrite answers its list as JSON).
    const list = (name: string) => ({ todos: [{ content: name.repeat(90_000), status: "pending", priority: "low" }] })
    model.script(
      { toolCalls: ["a", "b", "c"].map((name) => ({ name: "todowrite", input: list(name) })), usage: { input: 100, output: 10 } },
      { text: "Read all three.", usage: { input: 100, output: 10 } },
    )
    expect((await prompt(t, directory, session.id, { parts: [text("Read a, b and c")] })).status).toBe(200)
    model.script("Second.")
    expect((await prompt(t, directory, session.id, { parts: [text("second turn")] })).status).toBe(200)
    model.script("Third.")
    expect((await prompt(t, directory, session.id, { parts: [text("third turn")] })).status).toBe(200)

    // Pruning runs as the session goes idle: the two older reads are marked, the newest kept.
    const reads = await until(async () => {
      const tools = (await messages(t, directory, session.id)).flatMap((entry) => entry.parts.filter((part: any) => part.type === "tool"))
      return tools.filter((part: any) => part.state.time.compacted).length === 2 ? tools : undefined
    }, { what: "pruned tool outputs" })
    expect(reads.map((part: any) => part.state.time.compacted !== undefined)).toEqual([true, true, false])

    model.script("Fourth.")
    expect((await prompt(t, directory, session.id, { parts: [text("fourth turn")] })).status).toBe(200)
    const results = stepRequests().at(-1)!.body.messages.filter((message: any) => message.role === "tool").map((message: any) => String(message.content))
    expect(results.slice(0, 2)).toEqual(["[Old tool result content cleared]", "[Old tool result content cleared]"])
    expect(results[2]).toContain("c".repeat(90_000))
  })

  test("the newest turns that fit the recent budget are kept as they are (tail_start_id); only older ones are summarized", async () => {
    const t = target()
    const { directory, session, stream } = await newSession(t, "tail")
    stream.close()
    // A budget the newest turn (about 35 estimated tokens) fits in, but not both.
    const small = await api(t, "PATCH", "/config", { body: { compaction: { auto: true, prune: true, preserve_recent_tokens: 40 } } })
    expect(small.status, small.text).toBe(200)
    try {
      model.script("Paris.")
      expect((await prompt(t, directory, session.id, { parts: [text("Capital of France?")] })).status).toBe(200)
      model.script("Rome.")
      expect((await prompt(t, directory, session.id, { parts: [text("Capital of Italy?")] })).status).toBe(200)
      model.script("## Objective\n- Capitals")
      expect((await api(t, "POST", `/session/${session.id}/summarize`, { directory, body: { providerID: "fake", modelID: "fake-1" } })).status).toBe(200)
      const sent = transcript(stepRequests().at(-1)!.body).at(-1)!
      expect(sent).toContain("<conversation>\n[User]: Capital of France?\n\n[Assistant]: Paris.\n</conversation>")
      expect(sent).not.toContain("Italy")

      const stored = await messages(t, directory, session.id)
      expect(stored[4].parts[0]).toMatchObject({ type: "compaction", tail_start_id: stored[2].info.id })
      model.script("Madrid.")
      expect((await prompt(t, directory, session.id, { parts: [text("Capital of Spain?")] })).status).toBe(200)
      expect(transcript(stepRequests().at(-1)!.body).filter((line) => !line.startsWith("system:"))).toEqual([
        "user: What did we do so far?",
        "assistant: ## Objective\n- Capitals",
        "user: Capital of Italy?",
        "assistant: Rome.",
        "user: Capital of Spain?",
      ])
    } finally {
      await api(t, "PATCH", "/config", { body: { compaction: { auto: true, prune: true, preserve_recent_tokens: 15_000 } } })
    }
  })
})
