import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, useTarget } from "../support/http.ts"
import { untilGroupGone } from "../support/processes.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { sessionWithEvents } from "../support/session-events.ts"
import type { SseStream } from "../support/sse.ts"
import { targetKinds, type Target } from "../support/targets.ts"

/**
 * Commands, shell commands and history edits in a session, against the scripted model, on both runtimes; the
 * shapes and events upstream 1.18 gives (observed with `opencode serve`). The edge without a machine answers
 * MachineUnavailable for what must run on one (test/edge/command-machine.test.ts runs them through the tunnel).
 */
describe.each(targetKinds())("commands, shell and history edits [%s]", (kind) => {
  const target = useTarget(kind)
  const machine = kind === "local"
  let model: ModelServer
  const made: string[] = []

  beforeAll(async () => {
    model = await startModelServer()
    const configured = await api(target(), "PATCH", "/config", {
      body: {
        ...fakeProviderConfig(model.baseURL),
        permission: { bash: "allow", edit: "allow" },
        command: {
          pick: { template: "First $1, then $2; all of it: $ARGUMENTS", agent: "plan", description: "Picks" },
          bare: { template: "Run the checks" },
          probe: { template: "The answer is !`echo probe-$((6*7))`." },
          delegate: { template: "Look into $ARGUMENTS", subtask: true, description: "Delegates" },
        },
      },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await model?.close()
    for (const directory of made) rmSync(dirname(directory), { recursive: true, force: true })
  })

  const newSession = (t: Target, label: string) => sessionWithEvents(t, label, made)

  const messagesOf = async (t: Target, sessionID: string) => (await api(t, "GET", `/session/${sessionID}/message`)).json as any[]
  /** The properties of the first `type` event that `predicate` accepts. */
  const eventOf = async (stream: SseStream, type: string, predicate: (properties: any) => boolean) => (await stream.waitForEvent(type, predicate)).payload!.properties
  const eventsOf = (stream: SseStream, type: string) => stream.events().map((frame) => frame.payload!).filter((event) => event?.type === type)

  test("GET /command lists upstream's built-ins init and review first, then the config's commands", async () => {
    const { directory } = await newSession(target(), "list")
    const commands = (await api(target(), "GET", "/command", { directory })).json as any[]
    expect(commands.slice(0, 2).map((command) => command.name)).toEqual(["init", "review"])
    expect(commands[0]).toMatchObject({ description: "guided AGENTS.md setup", source: "command", hints: ["$ARGUMENTS"] })
    expect(commands[0].template).toMatch(/^Create or update `AGENTS.md` for this repository\./)
    expect(commands[1]).toMatchObject({ source: "command", subtask: true, hints: ["$ARGUMENTS"] })
    expect(commands.find((command) => command.name === "pick")).toEqual({
      name: "pick",
      description: "Picks",
      agent: "plan",
      source: "command",
      template: "First $1, then $2; all of it: $ARGUMENTS",
      hints: ["$1", "$2", "$ARGUMENTS"],
    })
    // Then the skills, which live on the machine: the built-in one alone here, none on the edge without a machine.
    expect(commands.filter((command) => command.source === "skill").map((command) => command.name)).toEqual(machine ? ["customize-opencode"] : [])
    expect(commands.at(-1).source).toBe(machine ? "skill" : "command")
  })

  test("a command runs as a prompt: numbered arguments (the last takes the rest), $ARGUMENTS, its agent; command.executed", async () => {
    const { session, stream } = await newSession(target(), "pick")
    model.script("Picked.")
    const reply = await api(target(), "POST", `/session/${session.id}/command`, { body: { command: "pick", arguments: 'red "dark blue" and green' } })
    expect(reply.status, reply.text).toBe(200)
    expect(reply.json.info).toMatchObject({ role: "assistant", agent: "plan", mode: "plan", finish: "stop" })
    expect(reply.json.parts.find((part: any) => part.type === "text").text).toBe("Picked.")
    const [user] = await messagesOf(target(), session.id)
    expect(user.info).toMatchObject({ role: "user", agent: "plan", model: { providerID: "fake", modelID: "fake-1" } })
    expect(user.parts.map((part: any) => [part.type, part.text])).toEqual([["text", 'First red, then dark blue and green; all of it: red "dark blue" and green']])
    const executed = await eventOf(stream, "command.executed", (p) => p.sessionID === session.id)
    expect(executed).toEqual({ name: "pick", sessionID: session.id, arguments: 'red "dark blue" and green', messageID: reply.json.info.id })

    // A template without placeholders gets the arguments after a blank line.
    model.script("Checked.")
    await api(target(), "POST", `/session/${session.id}/command`, { body: { command: "bare", arguments: "only the fast ones" } })
    const last = (await messagesOf(target(), session.id)).findLast((message) => message.info.role === "user")
    expect(last.parts[0].text).toBe("Run the checks\n\nonly the fast ones")
    stream.close()
  })

  test("a subtask command runs as a task in a child session, then the turn goes on from its result (upstream's messages)", async () => {
    const { session } = await newSession(target(), "subtask")
    model.script("Found it in the attic.", "The box is in the attic.")
    const reply = await api(target(), "POST", `/session/${session.id}/command`, { body: { command: "delegate", arguments: "the missing box" } })
    expect(reply.status, reply.text).toBe(200)
    expect(reply.json.parts.find((part: any) => part.type === "text").text).toBe("The box is in the attic.")
    const messages = await messagesOf(target(), session.id)
    expect(messages.map((message) => message.info.role)).toEqual(["user", "assistant", "user", "assistant"])
    const [asked, task, followUp, answer] = messages
    expect(asked.parts).toEqual([
      expect.objectContaining({ type: "subtask", agent: "build", description: "Delegates", command: "delegate", prompt: "Look into the missing box", model: { providerID: "fake", modelID: "fake-1" } }),
    ])
    expect(task.info).toMatchObject({ parentID: asked.info.id, agent: "build", finish: "tool-calls" })
    const tool = task.parts[0]
    expect(tool).toMatchObject({ type: "tool", tool: "task", state: { status: "completed", title: "Delegates", input: { prompt: "Look into the missing box", description: "Delegates", subagent_type: "build", command: "delegate" } } })
    expect(tool.state.output).toContain("Found it in the attic.")
    expect(followUp.parts).toEqual([expect.objectContaining({ type: "text", text: "Summarize the task tool output above and continue with your task.", synthetic: true })])
    expect(answer.info).toMatchObject({ id: reply.json.info.id, parentID: followUp.info.id, finish: "stop" })
    const children = (await api(target(), "GET", `/session/${session.id}/children`)).json as any[]
    expect(children.map((child) => child.id)).toEqual([tool.state.metadata.sessionId])
  })

  test("an unknown command is 404 and a bad body 400, nothing stored", async () => {
    const { session } = await newSession(target(), "unknown")
    const unknown = await api(target(), "POST", `/session/${session.id}/command`, { body: { command: "nope", arguments: "" } })
    expectNamedError(unknown, 404, "NotFoundError")
    expect(unknown.json.data.message).toContain("Available commands: init, review")
    expectNamedError(await api(target(), "POST", `/session/${session.id}/command`, { body: { command: "pick" } }), 400, "BadRequest")
    expect(await messagesOf(target(), session.id)).toEqual([])
  })

  test.runIf(machine)("a markdown command's !`cmd` runs in the session's directory and its @file is attached as a file part", async () => {
    const { directory, session } = await newSession(target(), "markdown")
    writeFileSync(join(directory, "notes.txt"), "the notes say 7\n")
    mkdirSync(join(directory, ".opencode", "command"), { recursive: true })
    writeFileSync(
      join(directory, ".opencode", "command", "summarize.md"),
      "---\ndescription: Summarize a file\n---\nSummarize @notes.txt for $1 in !`basename $PWD` (!`echo $((6*7)); echo noise >&2`).\n",
    )
    writeFileSync(join(directory, "extra.md"), "more\n")
    model.script("Summarized.")
    // A file the request attaches itself comes after the command's own, and is not attached twice.
    const attached = ["notes.txt", "extra.md"].map((name) => ({ type: "file", mime: "text/plain", filename: name, url: `file://${join(directory, name)}` }))
    const reply = await api(target(), "POST", `/session/${session.id}/command`, { directory, body: { command: "summarize", arguments: "Ada", parts: attached } })
    expect(reply.status, reply.text).toBe(200)
    const [user] = await messagesOf(target(), session.id)
    expect(user.parts.map((part: any) => [part.type, part.filename])).toEqual([["text", undefined], ["file", "notes.txt"], ["file", "extra.md"]])
    // upstream keeps the command's standard output as printed (its newline too), then trims the whole text
    expect(user.parts[0].text).toBe(`Summarize @notes.txt for Ada in ${directory.split("/").at(-1)}\n (42\n).`)
    expect(user.parts[1]).toMatchObject({ type: "file", mime: "text/plain", filename: "notes.txt", url: `file://${join(directory, "notes.txt")}` })
    const request = model.requests.filter((r) => r.kind === "step").at(-1)!
    expect(JSON.stringify(request.body.messages.at(-1))).toContain("the notes say 7")
  })

  test.runIf(!machine)("a command with !`cmd` needs the machine: 503 MachineUnavailable, nothing stored", async () => {
    const { session } = await newSession(target(), "probe")
    expectNamedError(await api(target(), "POST", `/session/${session.id}/command`, { body: { command: "probe", arguments: "" } }), 503, "MachineUnavailable")
    expect(await messagesOf(target(), session.id)).toEqual([])
  })

  test("init asks the model to write AGENTS.md with upstream's init prompt, with the model it names", async () => {
    const { session } = await newSession(target(), "init")
    model.script("Wrote it.")
    const messageID = "msg_00000000000finitinitinit1"
    const done = await api(target(), "POST", `/session/${session.id}/init`, { body: { providerID: "fake", modelID: "fake-1", messageID } })
    expect(done.status, done.text).toBe(200)
    expect(done.json).toBe(true)
    const stored = await messagesOf(target(), session.id)
    const user = stored.find((message) => message.info.role === "user")
    const assistant = stored.find((message) => message.info.role === "assistant")
    expect(user.info).toMatchObject({ id: messageID, agent: "build", model: { providerID: "fake", modelID: "fake-1" } })
    expect(user.parts[0].text).toMatch(/^Create or update `AGENTS.md` for this repository\./)
    expect(assistant.parts.find((part: any) => part.type === "text").text).toBe("Wrote it.")
    expectNamedError(await api(target(), "POST", `/session/${session.id}/init`, { body: { providerID: "fake" } }), 400, "BadRequest")
  })

  test.runIf(machine)("shell: the user's command runs on the machine as a bash tool part, with upstream's messages and events", async () => {
    const { directory, session, stream } = await newSession(target(), "shell")
    const reply = await api(target(), "POST", `/session/${session.id}/shell`, { body: { agent: "build", command: "echo out-$((40+2)); pwd" } })
    expect(reply.status, reply.text).toBe(200)
    const output = `out-42\n${directory}\n`
    expect(reply.json.info).toMatchObject({ role: "assistant", agent: "build", mode: "build", cost: 0, tokens: { input: 0, output: 0 }, path: { cwd: directory } })
    expect(reply.json.info.finish).toBeUndefined()
    expect(reply.json.parts).toEqual([
      expect.objectContaining({
        type: "tool",
        tool: "bash",
        state: { status: "completed", input: { command: "echo out-$((40+2)); pwd" }, output, title: "", metadata: { output }, time: { start: expect.any(Number), end: expect.any(Number) } },
      }),
    ])
    const [user] = await messagesOf(target(), session.id)
    expect(user.info).toMatchObject({ role: "user", agent: "build", model: { providerID: "fake", modelID: "fake-1" } })
    expect(user.parts).toEqual([expect.objectContaining({ type: "text", text: "The following tool was executed by the user", synthetic: true })])
    await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id)
    const trace = stream
      .events()
      .map((frame) => frame.payload!)
      .filter((event) => event.properties?.sessionID === session.id && event.type !== "session.updated")
      .map((event) => event.type + (event.type === "message.part.updated" ? ` ${event.properties.part.type}:${event.properties.part.state?.status ?? ""}` : "") + (event.type === "message.updated" ? ` ${event.properties.info.role}` : ""))
    expect(trace).toEqual([
      "session.status",
      "message.updated user",
      "message.part.updated text:",
      "message.updated assistant",
      "message.part.updated tool:running",
      "message.updated assistant",
      "message.part.updated tool:completed",
      "session.status",
      "session.idle",
    ])
    stream.close()
  })

  test.runIf(machine)("shell: the command runs in the user's shell as upstream invokes it (the config's shell first; bash evals it, fish gets -c)", async () => {
    const shellOutput = async (directory: string, sessionID: string, command: string) => {
      const reply = await api(target(), "POST", `/session/${sessionID}/shell`, { directory, body: { agent: "build", command } })
      expect(reply.status, reply.text).toBe(200)
      return reply.json.parts[0].state.output as string
    }
    // bash: a login shell that enables aliases, cds into the directory ($1) and evals the command, with $0 "opencode"
    const bash = await newSession(target(), "shell-bash")
    writeFileSync(join(bash.directory, "opencode.json"), JSON.stringify({ shell: "bash" }))
    expect(await shellOutput(bash.directory, bash.session.id, "echo $0; shopt -q expand_aliases && echo aliases on")).toBe("opencode\naliases on\n")
    bash.stream.close()

    // fish (here a stand-in script named fish) gets just `-c` and the command
    const fish = await newSession(target(), "shell-fish")
    const wrapper = join(fish.directory, "fish")
    writeFileSync(wrapper, '#!/bin/sh\necho "fish was given: $*"\n', { mode: 0o755 })
    writeFileSync(join(fish.directory, "opencode.json"), JSON.stringify({ shell: wrapper }))
    expect(await shellOutput(fish.directory, fish.session.id, "echo hi")).toBe("fish was given: -c echo hi\n")
    fish.stream.close()
  })

  test.runIf(machine)("shell: aborting the session kills the command's process group; the part completes with upstream's abort note", async () => {
    const { directory, session, stream } = await newSession(target(), "shell-abort")
    const command = "echo $$ > group; echo started; sleep 30; echo never"
    const running = api(target(), "POST", `/session/${session.id}/shell`, { body: { agent: "build", command } })
    const group = await until(() => {
      const pid = existsSync(join(directory, "group")) ? Number(readFileSync(join(directory, "group"), "utf8")) : 0
      return pid > 0 ? pid : undefined
    })
    expect((await api(target(), "POST", `/session/${session.id}/abort`)).status).toBe(200)
    const reply = await running
    expect(reply.status, reply.text).toBe(200)
    const output = "started\n\n\n<metadata>\nUser aborted the command\n</metadata>"
    expect(reply.json.parts[0].state).toMatchObject({ status: "completed", input: { command }, output, title: "", metadata: { output } })
    expect(reply.json.info.time.completed).toEqual(expect.any(Number))
    await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id)
    // the sleep went with the shell: nothing of the command's process group is left
    await untilGroupGone(group)
    stream.close()
  })

  test.runIf(!machine)("shell needs the machine: 503 MachineUnavailable, nothing stored", async () => {
    const { session } = await newSession(target(), "shell-none")
    expectNamedError(await api(target(), "POST", `/session/${session.id}/shell`, { body: { agent: "build", command: "echo hi" } }), 503, "MachineUnavailable")
    expect(await messagesOf(target(), session.id)).toEqual([])
  })

  test("history edits: a part replaced and removed, a message deleted, with their events; a busy session keeps its messages", async () => {
    const { session, stream } = await newSession(target(), "edits")
    model.script("First answer.")
    await api(target(), "POST", `/session/${session.id}/message`, { body: { parts: [text("first question")] } })
    const [user, assistant] = await messagesOf(target(), session.id)
    const part = user.parts[0]
    const base = `/session/${session.id}/message/${user.info.id}/part/${part.id}`

    const updated = await api(target(), "PATCH", base, { body: { ...part, text: "the question, edited" } })
    expect(updated.status, updated.text).toBe(200)
    expect(updated.json).toEqual({ ...part, text: "the question, edited" })
    expect((await messagesOf(target(), session.id))[0].parts[0].text).toBe("the question, edited")
    const partEvent = await eventOf(stream, "message.part.updated", (p) => p.part.id === part.id && p.part.text === "the question, edited")
    expect(partEvent.sessionID).toBe(session.id)
    // The body's ids must be the route's; an invalid part is 400, nothing changes.
    expectNamedError(await api(target(), "PATCH", base, { body: { ...part, id: "prt_someotherpart" } }), 400, "BadRequest")
    expectNamedError(await api(target(), "PATCH", base, { body: { type: "text" } }), 400, "BadRequest")

    const removedPart = await api(target(), "DELETE", base)
    expect(removedPart.json).toBe(true)
    expect((await messagesOf(target(), session.id))[0].parts).toEqual([])
    expect(await eventOf(stream, "message.part.removed", (p) => p.partID === part.id)).toEqual({ sessionID: session.id, messageID: user.info.id, partID: part.id })

    const removed = await api(target(), "DELETE", `/session/${session.id}/message/${assistant.info.id}`)
    expect(removed.json).toBe(true)
    expect((await messagesOf(target(), session.id)).map((message) => message.info.id)).toEqual([user.info.id])
    expect(await eventOf(stream, "message.removed", (p) => p.messageID === assistant.info.id)).toEqual({ sessionID: session.id, messageID: assistant.info.id })
    expectNamedError(await api(target(), "GET", `/session/${session.id}/message/${assistant.info.id}`), 404, "NotFoundError")
    expectNamedError(await api(target(), "GET", `/message/${assistant.info.id}`), 404, "NotFoundError")
    // As upstream, deleting what is not there succeeds; an unknown session is 404, a malformed id 400.
    expect((await api(target(), "DELETE", `/session/${session.id}/message/${assistant.info.id}`)).json).toBe(true)
    expectNamedError(await api(target(), "DELETE", `/session/ses_unknown/message/${user.info.id}`), 404, "NotFoundError")
    expectNamedError(await api(target(), "DELETE", `/session/${session.id}/message/nope`), 400, "BadRequest")

    // While a turn runs, deleting a message is refused (409 SessionBusyError) and changes nothing.
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    model.handle(async (request) => (request.kind === "step" ? (await held, "Second answer.") : undefined))
    const from = stream.frames.length
    const busy = await api(target(), "POST", `/session/${session.id}/prompt_async`, { body: { parts: [text("second question")] } })
    expect(busy.status).toBe(204)
    await stream.waitForEvent("session.status", (p) => p.sessionID === session.id && p.status.type === "busy", from)
    const refused = await api(target(), "DELETE", `/session/${session.id}/message/${user.info.id}`)
    expectNamedError(refused, 409, "SessionBusyError")
    expect(refused.json.data.sessionID).toBe(session.id)
    release()
    await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id, from)
    model.handle(() => undefined)
    expect((await messagesOf(target(), session.id)).map((message) => message.info.role)).toEqual(["user", "user", "assistant"])
    expect(eventsOf(stream, "message.removed")).toHaveLength(2)
    stream.close()
  })
})
