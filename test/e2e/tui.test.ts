import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest"
import { readIfThere } from "../support/files.ts"
import { api, text, until, useTarget } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { startPairedEdge, type PairedEdge } from "../support/paired-edge.ts"
import { REPO_ROOT, targetKinds } from "../support/targets.ts"

/** The official terminal client, from the npm package opencode-ai (a devDependency), run offline. */
const OPENCODE = join(REPO_ROOT, "node_modules", ".bin", "opencode")
const hasTmux = spawnSync("tmux", ["-V"]).status === 0
const SCREEN_WAIT_MS = 45_000
/** The screen text of every step, one file each: `test-output/tui/<target>/<test>/NN-<step>.txt`. */
const SCREENS_DIR = join(REPO_ROOT, "test-output", "tui")

/** `opencode attach` in a detached tmux session: keys in, screen text out. */
class Tui {
  private shots = 0

  constructor(
    readonly name: string,
    /** The client's HOME: its log is under .local/share/opencode/log. */
    readonly home: string,
    /** Where `capture` saves screens. */
    readonly screens: string,
  ) {}

  /** `password`: sent as Basic auth (a paired edge takes its client token there). */
  static start(url: string, directory: string, screens: string, password?: string): Tui {
    const home = mkdtempSync(join(tmpdir(), "oc-tui-home-"))
    rmSync(screens, { recursive: true, force: true })
    mkdirSync(screens, { recursive: true })
    const tui = new Tui(`oc-tui-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, home, screens)
    const command = `cd ${directory} && HOME=${home} OPENCODE_DISABLE_AUTOUPDATE=1 ${OPENCODE} attach --log-level DEBUG --dir ${directory}${password ? ` --password ${password}` : ""} ${url}`
    execFileSync("tmux", tui.tmux("new-session", "-d", "-s", tui.name, "-x", "160", "-y", "45", command))
    return tui
  }

  /**
   * A tmux command line on this client's own tmux server (`-L`): with one shared server, a session started just
   * as the previous one was killed could reach that server while it exited ("server exited unexpectedly").
   */
  private tmux(...args: string[]): string[] {
    return ["-L", this.name, ...args]
  }

  screen(): string {
    return spawnSync("tmux", this.tmux("capture-pane", "-t", this.name, "-p"), { encoding: "utf8" }).stdout ?? ""
  }

  /** Saves the screen as the next numbered step and returns it. */
  capture(step: string, screen = this.screen()): string {
    const file = `${String(++this.shots).padStart(2, "0")}-${step}.txt`
    writeFileSync(join(this.screens, file), screen)
    return screen
  }

  /** The client's own log, if it wrote one (attach logs little), for failure messages. */
  log(): string {
    const folder = join(this.home, ".local", "share", "opencode", "log")
    if (!existsSync(folder)) return ""
    return readdirSync(folder)
      .map((file) => readFileSync(join(folder, file), "utf8"))
      .join("")
      .slice(-4000)
  }

  /** Types text into the focused input, literally (no key names). */
  async type(value: string): Promise<void> {
    execFileSync("tmux", this.tmux("send-keys", "-t", this.name, "-l", value))
    await new Promise((resolve) => setTimeout(resolve, 300))
  }

  /** One key at a time, with a short pause: the client reads a leader key (ctrl+x) and the next key apart. */
  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      execFileSync("tmux", this.tmux("send-keys", "-t", this.name, key))
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  }

  /** Waits for `needle` on the screen; with `step`, saves that screen as the step's capture. */
  waitFor(needle: string, step?: string): Promise<string> {
    return this.waitUntil(`"${needle}"`, (screen) => screen.includes(needle), step)
  }

  /** Waits for a screen that satisfies `ready` (one capture, checked whole); with `step`, saves it. */
  waitUntil(what: string, ready: (screen: string) => boolean, step?: string): Promise<string> {
    return until(
      () => {
        const screen = this.screen()
        return ready(screen) ? screen : undefined
      },
      { what: `${what} on the terminal client's screen`, timeoutMs: SCREEN_WAIT_MS, intervalMs: 250 },
    ).then(
      (screen) => (step ? this.capture(step, screen) : screen),
      (error: Error) => {
        const screen = this.capture(`failed-${step ?? "wait"}`)
        const log = this.log()
        throw new Error(`${error.message}; the screen was:\n${screen}${log ? `\nthe client's log ends:\n${log}` : ""}`)
      },
    )
  }

  stop(): void {
    spawnSync("tmux", this.tmux("kill-server"))
  }
}



/**
 * In the client: a prompt whose turn edits `notes` ("first draft" → "final text", scripted by the caller), then
 * `/undo` puts the file back and marks the session reverted, and `/redo` edits it again. `session` reads the
 * session back from the server.
 */
async function editThenUndoRedo(tui: Tui, notes: string, session: () => Promise<any>) {
  await tui.type("Polish the notes")
  await tui.keys("Enter")
  await tui.waitUntil("the reply with the turn done", (screen) => screen.includes("Edited the notes.") && !screen.includes("esc interrupt"), "edited")
  expect(readFileSync(notes, "utf8")).toBe("final text\n")

  await tui.type("/undo")
  await tui.waitFor("/undo", "undo-listed")
  await tui.keys("Enter")
  await until(() => (readIfThere(notes) === "first draft\n" ? true : undefined), { what: "notes.txt put back by /undo" })
  // The files go back first, then the session is marked reverted.
  const reverted = await until(async () => (await session()).revert, { what: "the session marked reverted" })
  expect(reverted.messageID).toMatch(/^msg/)
  // The client puts the undone prompt back into the prompt box.
  await tui.waitFor("Polish the notes", "undone")

  await tui.keys("C-u")
  await tui.type("/redo")
  await tui.waitFor("/redo", "redo-listed")
  await tui.keys("Enter")
  await until(() => (readIfThere(notes) === "final text\n" ? true : undefined), { what: "notes.txt edited again by /redo" })
  await until(async () => ((await session()).revert === undefined ? true : undefined), { what: "the session no longer reverted" })
  tui.capture("redone")
}


/** The `/greet` command (template "Greet $1 warmly, then $2") run as a user does; the caller scripts the reply "Hello, Ada!". */
async function greetAda(tui: Tui) {
  // "/gre" lists the command; Enter completes it, then the arguments and Enter run it.
  await tui.type("/gre")
  await tui.waitFor("/greet", "command-listed")
  await tui.keys("Enter")
  await tui.type("Ada the cake")
  await tui.keys("Enter")
  await tui.waitUntil("the filled template and the reply", (screen) => screen.includes("Greet Ada warmly, then the cake") && screen.includes("Hello, Ada!"), "command-ran")
}

describe.skipIf(!hasTmux || !existsSync(OPENCODE)).each(targetKinds())("the official OpenCode TUI attaches [%s]", (kind) => {
  const target = useTarget(kind)
  let model: ModelServer
  let tui: Tui | undefined
  afterEach(() => tui?.stop())

  // A provider is connected before any client starts (with none, the client opens "Connect a provider", as upstream's does).
  beforeAll(async () => {
    model = await startModelServer()
    const configured = await api(target(), "PATCH", "/config", { body: fakeProviderConfig(model.baseURL) })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await model?.close()
  })

  const screens = (test: string) => join(SCREENS_DIR, kind, test)

  // The files are the machine's: on the edge here (no machine paired) there would be nothing to put back.
  test.skipIf(kind !== "local")(
    "/undo in the client puts back the files the last prompt's turn edited, /redo edits them again",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "oc-tui-undo-"))
      const notes = join(directory, "notes.txt")
      writeFileSync(notes, "first draft\n")
      const allowed = await api(target(), "PATCH", "/config", { body: { permission: { edit: "allow" } } })
      expect(allowed.status, allowed.text).toBe(200)
      model.script({ toolCalls: [{ name: "edit", input: { filePath: notes, oldString: "first draft", newString: "final text" } }] }, { text: "Edited the notes." })

      tui = Tui.start(target().url, directory, screens("undo"))
      await tui.waitUntil('"Ask anything" with the model "Fake 1"', (screen) => screen.includes("Ask anything") && screen.includes("Fake 1"), "home")
      await editThenUndoRedo(tui, notes, async () => (await api(target(), "GET", "/session", { directory })).json[0])
    },
    SCREEN_WAIT_MS * 4,
  )

  test(
    "home screen, session list, an opened session's messages, live title, /tui toast and prompt, and a permission request and a question answered in the client",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "oc-tui-project-"))
      const session = (await api(target(), "POST", "/session", { directory, body: { title: "Visible from the TUI" } })).json
      const sent = await api(target(), "POST", `/session/${session.id}/message`, {
        directory,
        body: { parts: [text("hello from the conformance test")], noReply: true },
      })
      expect(sent.status, sent.text).toBe(200)

      tui = Tui.start(target().url, directory, screens("attach"))
      // The configured provider is connected: the home screen asks for a prompt, with the model in the prompt box.
      const home = await tui.waitUntil('"Ask anything" with the model "Fake 1"', (screen) => screen.includes("Ask anything") && screen.includes("Fake 1"), "home")
      expect(home).not.toContain("Connect a provider")
      await tui.keys("C-x", "l")
      await tui.waitFor("Visible from the TUI", "session-list")
      await tui.keys("Enter")
      await tui.waitFor("hello from the conformance test", "session-opened")

      const renamed = await api(target(), "PATCH", `/session/${session.id}`, { directory, body: { title: "Renamed over HTTP" } })
      expect(renamed.status, renamed.text).toBe(200)
      await tui.waitFor("Renamed over HTTP", "renamed")

      // Remote control: the tui.* events the /tui routes publish drive the real client.
      expect((await api(target(), "POST", "/tui/show-toast", { directory, body: { message: "Toast over HTTP", variant: "info" } })).json).toBe(true)
      await tui.waitFor("Toast over HTTP", "toast")
      expect((await api(target(), "POST", "/tui/append-prompt", { directory, body: { text: "typed over HTTP" } })).json).toBe(true)
      await tui.waitFor("typed over HTTP", "prompt-appended")
      await tui.keys("C-u")

      // A tool call for the session that needs permission: the client shows the request, Enter allows it once.
      await api(target(), "PATCH", "/config", { body: { permission: { todowrite: "ask" } } })
      const todos = [{ content: "Ship it", status: "pending", priority: "high" }]
      const gated = api(target(), "POST", `/tool/todowrite/execute?sessionID=${session.id}`, { directory, body: { todos } })
      await tui.waitFor("Permission required", "permission-asked")
      await tui.keys("Enter")
      const written = await gated
      expect({ status: written.status, title: written.json?.title }, written.text).toEqual({ status: 200, title: "1 todos" })

      // A question from the question tool: the client lists the options; the second one is chosen.
      const question = {
        question: "Which database?",
        header: "Database",
        options: [
          { label: "SQLite", description: "One file" },
          { label: "Postgres", description: "A server" },
        ],
      }
      const asked = api(target(), "POST", `/tool/question/execute?sessionID=${session.id}`, { directory, body: { questions: [question] } })
      await tui.waitFor("Which database?", "question-asked")
      await tui.keys("Down", "Enter")
      const answered = await asked
      expect(answered.json?.metadata, answered.text).toEqual({ answers: [["Postgres"]] })
    },
    SCREEN_WAIT_MS * 5,
  )

  test(
    "a prompt typed in the client: the model's tool call and its streamed reply show, then the session is done",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "oc-tui-turn-"))
      // Whatever an earlier test set: these tools run without asking.
      const allowed = await api(target(), "PATCH", "/config", { body: { permission: { bash: "allow", todowrite: "allow" } } })
      expect(allowed.status, allowed.text).toBe(200)

      // The tool call: on the local server, bash on its machine; the edge here has no paired machine (a bash call would
      // fail, and this client shows a failed call only as a red line), so there todowrite, which runs in the server.
      const machine = kind === "local"
      const command = "echo tui-tool-$((6*7))"
      const todos = [
        { content: "Print the answer", status: "completed", priority: "high" },
        { content: "Tell the user", status: "in_progress", priority: "medium" },
      ]
      const call = machine ? { name: "bash", input: { command, description: "Print the answer" } } : { name: "todowrite", input: { todos } }
      const chunks = machine
        ? ["The command ", "printed ", "tui-tool-42, ", "so the ", "answer is ", "forty-two."]
        : ["The todo ", "list is ", "written: ", "one item ", "is still ", "in progress."]
      const reply = chunks.join("")
      // Several chunks well apart, so the client really draws a reply that is still arriving.
      model.script({ toolCalls: [call] }, { text: chunks, chunkDelayMs: 700 })
      const stepsBefore = model.requests.filter((request) => request.kind === "step").length

      tui = Tui.start(target().url, directory, screens("turn"))
      await tui.waitUntil('"Ask anything" with the model "Fake 1"', (screen) => screen.includes("Ask anything") && screen.includes("Fake 1"), "home")
      const prompt = "Run the tool and tell me what it printed"
      await tui.type(prompt)
      await tui.waitFor(prompt, "prompt-typed")
      await tui.keys("Enter")

      // The tool call, as the client draws it: bash as "$ <command>" over its output; todowrite as its list.
      if (machine) {
        const shown = await tui.waitUntil(
          "the bash call with its output",
          (screen) => screen.includes(`$ ${command}`) && /^[\s┃]*tui-tool-42(\s|$)/m.test(screen),
          "tool-call",
        )
        expect(shown).toContain(prompt)
      } else {
        const shown = await tui.waitUntil(
          "the todo list the call wrote",
          (screen) => screen.includes("# Todos") && screen.includes("Print the answer") && screen.includes("Tell the user"),
          "tool-call",
        )
        expect(shown).toContain(prompt)
      }

      // Mid-stream: the first chunks are drawn while the turn still runs ("esc interrupt" under the prompt box).
      await tui.waitUntil(
        "part of the reply while the turn is working",
        (screen) => screen.includes(chunks[0]!.trim()) && !screen.includes(chunks.at(-1)!) && screen.includes("esc interrupt"),
        "streaming",
      )

      // Done: the whole reply; no working marker; the reply's footer carries its duration, which the client draws once
      // the message is completed; the generated title in the side panel.
      const done = await tui.waitUntil(
        "the whole reply with the turn done",
        (screen) =>
          screen.includes(reply) && !screen.includes("esc interrupt") && /▣\s+Build · Fake 1 · \d/.test(screen) && screen.includes("Scripted title"),
        "done",
      )
      expect(done).toContain(prompt)
      expect(done).toContain(machine ? `$ ${command}` : "# Todos")

      // Over HTTP, the session holds what the screen showed.
      const sessions = (await api(target(), "GET", "/session", { directory })).json as any[]
      expect(sessions.map((session) => session.title)).toEqual(["Scripted title"])
      const id = sessions[0].id
      const messages = (await api(target(), "GET", `/session/${id}/message`, { directory })).json as any[]
      expect(messages.map((message) => `${message.info.role}:${message.info.finish ?? ""}`)).toEqual(["user:", "assistant:tool-calls", "assistant:stop"])
      expect(messages[0].parts.filter((part: any) => part.type === "text").map((part: any) => part.text)).toEqual([prompt])
      for (const message of messages.slice(1)) {
        expect(message.info).toMatchObject({ parentID: messages[0].info.id, providerID: "fake", modelID: "fake-1" })
        expect(message.info.time.completed).toEqual(expect.any(Number))
        expect(message.info.error).toBeUndefined()
      }
      const tools = messages[1].parts.filter((part: any) => part.type === "tool")
      expect(tools).toHaveLength(1)
      if (machine) {
        expect(tools[0]).toMatchObject({ tool: "bash", state: { status: "completed", input: { command } } })
        expect(tools[0].state.output).toContain("tui-tool-42")
        // what the client drew under the command
        expect(tools[0].state.metadata.output.trim()).toBe("tui-tool-42")
      } else {
        expect(tools[0]).toMatchObject({ tool: "todowrite", state: { status: "completed", input: { todos }, metadata: { todos } } })
        expect((await api(target(), "GET", `/session/${id}/todo`, { directory })).json).toEqual(todos)
      }
      expect(messages[2].parts.filter((part: any) => part.type === "text").map((part: any) => part.text)).toEqual([reply])
      const status = (await api(target(), "GET", "/session/status", { directory })).json
      expect(status[id]).toBeUndefined()

      // The model got the typed prompt, then the call's result.
      const steps = model.requests.filter((request) => request.kind === "step").slice(stepsBefore)
      expect(steps).toHaveLength(2)
      expect(JSON.stringify(steps[0]!.body.messages.at(-1))).toContain(prompt)
      const result = steps[1]!.body.messages.find((message: any) => message.role === "tool")
      expect(String(result.content)).toContain(machine ? "tui-tool-42" : "Tell the user")
    },
    SCREEN_WAIT_MS * 5,
  )
  test(
    "a custom command typed in the client runs its template; on the local server a `!` shell command shows its output",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "oc-tui-command-"))
      const configured = await api(target(), "PATCH", "/config", { body: { command: { greet: { template: "Greet $1 warmly, then $2", description: "Greets" } } } })
      expect(configured.status, configured.text).toBe(200)
      model.script({ text: "Hello, Ada!" })

      tui = Tui.start(target().url, directory, screens("command"))
      await tui.waitUntil('"Ask anything" with the model "Fake 1"', (screen) => screen.includes("Ask anything") && screen.includes("Fake 1"), "home")
      await greetAda(tui)

      const [session] = (await api(target(), "GET", "/session", { directory })).json as any[]
      const messages = (await api(target(), "GET", `/session/${session.id}/message`, { directory })).json as any[]
      expect(messages.map((message) => message.info.role)).toEqual(["user", "assistant"])
      expect(messages[0].parts.map((part: any) => part.text)).toEqual(["Greet Ada warmly, then the cake"])

      if (kind !== "local") return
      // "!" switches the prompt to shell mode: the command runs on the machine and the client draws it as a bash call.
      await tui.type("!")
      await tui.type("echo tui-shell-$((6*7))")
      await tui.keys("Enter")
      await tui.waitUntil("the shell command with its output", (screen) => screen.includes("$ echo tui-shell-$((6*7))") && /^[\s┃]*tui-shell-42(\s|$)/m.test(screen), "shell-ran")
      const shell = ((await api(target(), "GET", `/session/${session.id}/message`, { directory })).json as any[]).at(-1)
      expect(shell.parts[0]).toMatchObject({ tool: "bash", state: { status: "completed", output: "tui-shell-42\n" } })
    },
    SCREEN_WAIT_MS * 4,
  )

  test(
    "/compact in the client summarizes the session with the current model",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "oc-tui-compact-"))
      model.script({ text: "Paris is the capital." }, { text: "## Objective\n- Know the capital of France" })
      tui = Tui.start(target().url, directory, screens("compact"))
      await tui.waitUntil('"Ask anything" with the model "Fake 1"', (screen) => screen.includes("Ask anything") && screen.includes("Fake 1"), "home")
      await tui.type("What is the capital of France?")
      await tui.keys("Enter")
      await tui.waitFor("Paris is the capital.", "answered")
      await tui.type("/compact")
      await tui.waitFor("/compact", "command-listed")
      await tui.keys("Enter")
      await tui.waitFor("Know the capital of France", "compacted")

      const [session] = (await api(target(), "GET", "/session", { directory })).json as any[]
      const messages = (await api(target(), "GET", `/session/${session.id}/message`, { directory })).json as any[]
      expect(messages.map((message) => message.info.role)).toEqual(["user", "assistant", "user", "assistant"])
      expect(messages[2].parts).toEqual([expect.objectContaining({ type: "compaction", auto: false })])
      expect(messages[3].info).toMatchObject({ summary: true, mode: "compaction", providerID: "fake", modelID: "fake-1" })
    },
    SCREEN_WAIT_MS * 4,
  )
})

/**
 * The same client through a paired edge (`wrangler dev`, paired-only) with a machine behind it, as a user
 * attaches it: `opencode attach <edge> --password <client token>`. One client and one session carry every
 * check, one after another, since each edge setup costs a wrangler start.
 */
describe.skipIf(!hasTmux || !existsSync(OPENCODE) || !targetKinds().includes("worker") || !targetKinds().includes("local"))(
  "the official OpenCode TUI attaches through a paired edge",
  () => {
    const project = realpathSync(mkdtempSync(join(tmpdir(), "oc-tui-edge-")))
    let paired: PairedEdge
    let model: ModelServer
    let tui: Tui | undefined

    beforeAll(async () => {
      model = await startModelServer()
      paired = await startPairedEdge({ machine: { directory: project } })
      // The model server is on this machine's loopback: the edge reaches it through the machine.
      const configured = await asClient("PATCH", "/config", {
        ...fakeProviderConfig(model.baseURL),
        permission: { edit: "allow", bash: "allow" },
        command: { greet: { template: "Greet $1 warmly, then $2", description: "Greets" } },
      })
      expect(configured.status, configured.text).toBe(200)
    }, 240_000)
    afterAll(async () => {
      tui?.stop()
      await paired?.stop()
      await model?.close()
      rmSync(project, { recursive: true, force: true })
    })

    const asClient = (method: string, path: string, body?: unknown) =>
      api(paired.edge, method, path, { noAuth: true, directory: project, headers: paired.clientHeaders, ...(body !== undefined ? { body } : {}) })
    const messagesOf = async (sessionID: string) => (await asClient("GET", `/session/${sessionID}/message`)).json as any[]

    test(
      "/undo and /redo put back and re-apply the machine's files, a custom command runs its template, `!` runs a shell command on the machine, and /compact summarizes",
      async () => {
        const notes = join(project, "notes.txt")
        writeFileSync(notes, "first draft\n")
        model.script({ toolCalls: [{ name: "edit", input: { filePath: notes, oldString: "first draft", newString: "final text" } }] }, { text: "Edited the notes." })

        tui = Tui.start(paired.edge.url, project, join(SCREENS_DIR, "edge", "session"), paired.client.token)
        await tui.waitUntil('"Ask anything" with the model "Fake 1"', (screen) => screen.includes("Ask anything") && screen.includes("Fake 1"), "home")
        await editThenUndoRedo(tui, notes, async () => (await asClient("GET", "/session")).json[0])
        const [session] = (await asClient("GET", "/session")).json as any[]

        model.script({ text: "Hello, Ada!" })
        await greetAda(tui)
        const greeted = (await messagesOf(session.id)).filter((message) => message.info.role === "user").at(-1)
        expect(greeted.parts.map((part: any) => part.text)).toEqual(["Greet Ada warmly, then the cake"])

        await tui.type("!")
        await tui.type("echo tui-shell-$((6*7))")
        await tui.keys("Enter")
        await tui.waitUntil("the shell command with its output", (screen) => screen.includes("$ echo tui-shell-$((6*7))") && /^[\s┃]*tui-shell-42(\s|$)/m.test(screen), "shell-ran")
        expect((await messagesOf(session.id)).at(-1).parts[0]).toMatchObject({ tool: "bash", state: { status: "completed", output: "tui-shell-42\n" } })

        model.script({ text: "## Objective\n- Polish the notes" })
        await tui.type("/compact")
        await tui.waitFor("/compact", "compact-listed")
        await tui.keys("Enter")
        await tui.waitUntil("the summary with the session idle again", (screen) => screen.includes("Polish the notes") && screen.includes("Compaction ·") && !screen.includes("esc interrupt"), "compacted")
        const compacted = await messagesOf(session.id)
        expect(compacted.at(-2).parts).toEqual([expect.objectContaining({ type: "compaction", auto: false })])
        expect(compacted.at(-1).info).toMatchObject({ summary: true, mode: "compaction", providerID: "fake", modelID: "fake-1" })
      },
      SCREEN_WAIT_MS * 8,
    )
  },
)
