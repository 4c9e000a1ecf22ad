import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest"
import { readIfThere } from "../support/files.ts"
import { api, until, useTarget } from "../support/http.ts"
import { AppOrigin } from "../support/app-origin.ts"
import { CHROMIUM, launchChromium, watchedPage, type WatchedPage } from "../support/browser.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { REPO_ROOT, targetKinds, type Target } from "../support/targets.ts"
import { showLastTurnChanges, slashCommand } from "../support/web-session-actions.ts"

/**
 * The official web app's chat-side screens in headless Chromium: a permission asked during a turn, a question
 * asked during a turn, the model picker, and the terminal panel. Each answered in the app as a person would.
 * Screenshots go to `test-output/web/<variant>/`.
 *
 * A variant is a runtime plus whether a machine serves it: bash and terminals need a machine. The worker here
 * has none paired (an open tenant, no tunnel), so those scenarios are skipped on it, and what needs no machine
 * (webfetch's permission, questions, the model picker) runs there. A worker variant with a paired machine
 * fits the same list once the paired-edge helper exists.
 */
interface Variant {
  name: string
  /** Whether a machine runs bash and terminals for this target. */
  machine: boolean
  /** Starts the target for the enclosing describe block, serving the app from `appUrl`; its authHeaders go with every page request. */
  use(appUrl: string): () => Target
}

const VARIANTS: Variant[] = targetKinds().map((kind) => ({
  name: kind,
  machine: kind === "local",
  use: (appUrl) => useTarget(kind, kind === "local" ? { env: { OPENCODE_APP_URL: appUrl } } : { vars: { OPENCODE_APP_URL: appUrl } }),
}))
/** How the app answers a permission request: `POST /session/:id/permissions/:permissionID` (operationId permission.respond). */
const PERMISSION_ANSWER = /^\/session\/ses\w+\/permissions\/per\w+$/
const SHOTS = join(REPO_ROOT, "test-output", "web")
const origin = await AppOrigin.create()
afterAll(() => origin.cleanUp())

describe.skipIf(!existsSync(CHROMIUM)).each(VARIANTS)("the web app's chat screens in Chromium [$name]", (variant) => {
  const target = variant.use(origin.url)
  const shots = join(SHOTS, variant.name)
  let browser: Browser
  let model: ModelServer
  let project: string
  let watched: WatchedPage | undefined

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    model = await startModelServer()
    await origin.start()
    browser = await launchChromium()
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await model?.close()
    origin.stop()
  })
  afterEach(async () => {
    await watched?.page.close()
    watched = undefined
    if (project) rmSync(project, { recursive: true, force: true })
  })

  /** Configures the fake provider (and `extra`), makes a git project and opens the app's new-session page in it. */
  async function openNewSession(extra: Record<string, unknown> = {}, config = fakeProviderConfig(model.baseURL)): Promise<Page> {
    const configured = await api(target(), "PATCH", "/config", { body: { ...config, ...extra } })
    expect(configured.status, configured.text).toBe(200)
    project = realpathSync(mkdtempSync(join(tmpdir(), "oc-web-chat-")))
    execFileSync("git", ["init", "-q"], { cwd: project })
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root"], { cwd: project })
    watched = await watchedPage(browser, target().url, target().authHeaders)
    const page = watched.page
    await page.goto(`${target().url}/${Buffer.from(project).toString("base64url")}/session`)
    await page.getByText("Ask anything").first().waitFor({ timeout: 30_000 })
    await page.getByText("Fake 1").first().waitFor({ timeout: 30_000 })
    return page
  }

  async function sendPrompt(page: Page, words: string) {
    await page.keyboard.type(words)
    await page.keyboard.press("Enter")
  }

  /** The project's only session, once its last message has completed. */
  async function finishedTurn(): Promise<{ sessionID: string; messages: any[] }> {
    return until(async () => {
      const sessions = (await api(target(), "GET", "/session", { directory: project })).json
      if (!sessions?.[0]) return undefined
      const messages = (await api(target(), "GET", `/session/${sessions[0].id}/message`, { directory: project })).json
      return messages.at(-1)?.info.time.completed ? { sessionID: sessions[0].id, messages } : undefined
    }, { timeoutMs: 30_000, what: "the turn to finish" })
  }

  async function idle(page: Page) {
    // the shimmer draws "Thinking" twice, one span over the other: wait until neither shows
    await page.getByText("Thinking").first().waitFor({ state: "hidden", timeout: 15_000 })
  }

  /** The page's POSTs whose path matches, answered (`STATUS POST URL`). */
  function posted(path: RegExp): string[] {
    return watched!.answered.filter((line) => line.split(" ")[1] === "POST" && path.test(new URL(line.split(" ")[2]!).pathname))
  }

  /** On the worker, what only a machine answers (paths, git, language servers) is 503 MachineUnavailable. */
  function unexpectedFailures(): string[] {
    const machineOnly = /^503 GET [^ ]+\/(path|vcs|lsp)(\?|$)/
    return watched!.failures.filter((failure) => variant.machine || !machineOnly.test(failure))
  }

  /** A tool that asks before it runs: bash where a machine runs it, else webfetch (the runtime fetches for itself). */
  const asking = variant.machine
    ? { permission: "bash", call: (n: number) => ({ name: "bash", input: { command: `echo perm-$((${n}*7))`, description: "Print a number" } }), output: (n: number) => `perm-${n * 7}` }
    : { permission: "webfetch", call: (n: number) => ({ name: "webfetch", input: { url: `${origin.url}/?n=${n}`, format: "html" } }), output: () => "<title>OpenCode</title>" }

  test("a permission asked during a turn is answered in the app: allowed once, the tool runs and the reply finishes", async () => {
    const page = await openNewSession({ permission: { [asking.permission]: "ask" } })
    model.script({ toolCalls: [asking.call(6)] }, "Allowed and done.")
    await sendPrompt(page, "Use the tool")
    await page.getByRole("button", { name: "Allow once" }).waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(shots, "permission-asked.png") })
    await page.getByRole("button", { name: "Allow once" }).click()
    await page.getByText("Allowed and done.").first().waitFor({ timeout: 30_000 })
    const { messages } = await finishedTurn()
    await idle(page)
    await page.screenshot({ path: join(shots, "permission-allowed.png") })
    const tool = messages[1].parts.find((part: { type: string }) => part.type === "tool")
    expect(tool.state.status).toBe("completed")
    expect(tool.state.output).toContain(asking.output(6))
    // the app, speaking v1, answers through the deprecated per-session route
    expect(posted(PERMISSION_ANSWER)).toEqual([expect.stringMatching(/^200 /)])
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)

  test("a permission allowed always in the app is not asked again in the session; the same call runs at once", async () => {
    const page = await openNewSession({ permission: { [asking.permission]: "ask" } })
    model.script({ toolCalls: [asking.call(6)] }, "First run.")
    await sendPrompt(page, "Use the tool")
    await page.getByRole("button", { name: "Allow always" }).click({ timeout: 30_000 })
    await page.getByText("First run.").first().waitFor({ timeout: 30_000 })
    await finishedTurn()
    await idle(page)

    model.script({ toolCalls: [asking.call(6)] }, "Second run, unasked.")
    await sendPrompt(page, "Again")
    await page.getByText("Second run, unasked.").first().waitFor({ timeout: 30_000 })
    const { messages } = await finishedTurn()
    await idle(page)
    await page.screenshot({ path: join(shots, "permission-always.png") })
    const tools = messages.flatMap((message) => message.parts.filter((part: { type: string }) => part.type === "tool"))
    expect(tools.map((tool) => tool.state.status)).toEqual(["completed", "completed"])
    expect(posted(PERMISSION_ANSWER)).toEqual([expect.stringMatching(/^200 /)])
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)

  test("a permission denied in the app fails the tool call and ends the turn without another model step", async () => {
    const page = await openNewSession({ permission: { [asking.permission]: "ask" } })
    model.script({ toolCalls: [asking.call(6)] })
    const stepsBefore = model.requests.filter((request) => request.kind === "step").length
    await sendPrompt(page, "Use the tool")
    await page.getByRole("button", { name: "Deny" }).click({ timeout: 30_000 })
    const { messages } = await finishedTurn()
    await idle(page)
    await page.screenshot({ path: join(shots, "permission-denied.png") })
    const tool = messages[1].parts.find((part: { type: string }) => part.type === "tool")
    expect(tool.state).toMatchObject({ status: "error", error: expect.stringContaining("The user rejected permission to use this specific tool call.") })
    expect(model.requests.filter((request) => request.kind === "step").length).toBe(stepsBefore + 1)
    expect(posted(PERMISSION_ANSWER)).toEqual([expect.stringMatching(/^200 /)])
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)

  test("questions asked during a turn are answered in the app, one by choosing and one by typing; the model gets both answers as the tool's result", async () => {
    const page = await openNewSession()
    const colour = {
      question: "Which colour should the button be?",
      header: "Colour",
      options: [
        { label: "Red", description: "Warm and loud" },
        { label: "Blue", description: "Calm and cool" },
      ],
    }
    const label = { question: "What should the button say?", header: "Label", options: [{ label: "OK", description: "Short" }] }
    model.script({ toolCalls: [{ name: "question", input: { questions: [colour, label] } }] }, "Blue it is, saying Launch now.")
    await sendPrompt(page, "Ask me something")
    await page.getByText(colour.question).first().waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(shots, "question-asked.png") })
    await page.getByText("Calm and cool").click()
    await page.getByRole("button", { name: "Next" }).click()
    await page.getByText(label.question).first().waitFor({ timeout: 10_000 })
    await page.getByText("Type your own answer").click()
    await page.keyboard.type("Launch now")
    await page.screenshot({ path: join(shots, "question-typed.png") })
    await page.getByRole("button", { name: "Submit" }).click()
    await page.getByText("Blue it is, saying Launch now.").first().waitFor({ timeout: 30_000 })
    await finishedTurn()
    await idle(page)
    await page.screenshot({ path: join(shots, "question-answered.png") })
    const answered = model.requests.filter((request) => request.kind === "step").at(-1)!
    const toolResult = answered.body.messages.find((message: { role: string }) => message.role === "tool")
    expect(toolResult.content).toContain(`"${colour.question}"="Blue", "${label.question}"="Launch now"`)
    expect(posted(/^\/question\/que\w+\/reply$/)).toEqual([expect.stringMatching(/^200 /)])
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)

  test("a question dismissed in the app fails the question call and ends the turn without another model step", async () => {
    const page = await openNewSession()
    const question = { question: "Shall I go on?", header: "Go on", options: [{ label: "Yes", description: "Carry on" }, { label: "No", description: "Stop here" }] }
    model.script({ toolCalls: [{ name: "question", input: { questions: [question] } }] })
    const stepsBefore = model.requests.filter((request) => request.kind === "step").length
    await sendPrompt(page, "Ask me something")
    await page.getByText(question.question).first().waitFor({ timeout: 30_000 })
    await page.getByRole("button", { name: "Dismiss" }).click()
    const { messages } = await finishedTurn()
    await idle(page)
    await page.screenshot({ path: join(shots, "question-dismissed.png") })
    const tool = messages[1].parts.find((part: { type: string }) => part.type === "tool")
    expect(tool.state).toMatchObject({ status: "error", error: expect.stringContaining("The user dismissed this question") })
    expect(model.requests.filter((request) => request.kind === "step").length).toBe(stepsBefore + 1)
    expect(posted(/^\/question\/que\w+\/reject$/)).toEqual([expect.stringMatching(/^200 /)])
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)

  test("the model picker lists the configured models; the one chosen there answers the prompt and is stored with it", async () => {
    const config = fakeProviderConfig(model.baseURL)
    config.provider.fake.models = { ...config.provider.fake.models, "fake-2": { ...config.provider.fake.models["fake-1"], name: "Fake 2" } } as typeof config.provider.fake.models
    const page = await openNewSession({}, config)
    await page.getByText("Fake 1").first().click()
    await page.getByText("Fake 2").first().waitFor({ timeout: 15_000 })
    await page.screenshot({ path: join(shots, "model-picker.png") })
    await page.getByText("Fake 2").first().click()
    await page.getByText("Fake 2").first().waitFor({ timeout: 15_000 })
    model.script("Answered by the second model.")
    await page.locator('[contenteditable="true"]').first().click()
    await sendPrompt(page, "Which model are you?")
    await page.getByText("Answered by the second model.").first().waitFor({ timeout: 30_000 })
    const { messages } = await finishedTurn()
    await idle(page)
    await page.screenshot({ path: join(shots, "model-chosen.png") })
    expect(model.requests.filter((request) => request.kind === "step").at(-1)!.body.model).toBe("fake-2")
    expect(messages[0].info.model).toMatchObject({ providerID: "fake", modelID: "fake-2" })
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)

  // needs a machine to run the shell: skipped on a worker with none paired
  test.skipIf(!variant.machine)("the terminal panel opens a shell on the machine; a command typed there runs and its output reaches the app [needs a machine]", async () => {
    await openNewSession()
    const page = watched!.page
    // The app offers its terminal on a session's page, not on the new-session page.
    const session = (await api(target(), "POST", "/session", { directory: project, body: {} })).json
    await page.goto(`${target().url}/${Buffer.from(project).toString("base64url")}/session/${session.id}`)
    await page.getByText("Ask anything").first().waitFor({ timeout: 30_000 })
    const sockets: string[] = []
    let received = ""
    page.on("websocket", (socket) => {
      sockets.push(socket.url())
      socket.on("framereceived", (frame) => {
        if (typeof frame.payload === "string") received += frame.payload
      })
    })
    await page.keyboard.press("Control+Backquote")
    const terminal = page.locator("[data-component=terminal]").first()
    await terminal.waitFor({ timeout: 30_000 })
    const pty = await until(async () => (await api(target(), "GET", "/pty", { directory: project })).json?.[0], { what: "the app to start a terminal" })
    expect(pty).toMatchObject({ cwd: project, status: "running" })
    // type once the shell has drawn its prompt, into the terminal's own input (the page moves focus while it loads)
    await until(() => (/[#$] $/.test(received) ? true : undefined), { timeoutMs: 30_000, what: "the shell's prompt in the app" })
    await terminal.locator("textarea").pressSequentially("echo term-$((6*7))")
    await terminal.locator("textarea").press("Enter")
    // the typed line echoes as `term-$((6*7))`: only the command's output says term-42
    await until(() => (received.includes("term-42") ? true : undefined), { timeoutMs: 30_000, what: "term-42 in the terminal" })
    await page.screenshot({ path: join(shots, "terminal.png") })
    // the app connects with a single-use ticket it asked for, since a browser's WebSocket sends no auth header
    expect(sockets).toEqual([expect.stringMatching(new RegExp(`/pty/${pty.id}/connect\\?.*ticket=`))])
    expect(watched!.answered.filter((line) => line.includes("/pty"))).toEqual(watched!.answered.filter((line) => line.includes("/pty") && /^200 /.test(line)))
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)

  // the edit runs on the machine: skipped on a worker with none paired (web-edge.test.ts has it through a paired edge)
  test.skipIf(!variant.machine)("a turn's edit shows in the review panel's last turn changes; /undo puts the file back, /redo re-applies it, and /greet runs the custom command [needs a machine]", async () => {
    const page = await openNewSession({ permission: { edit: "allow" }, command: { greet: { template: "Greet $1 warmly, then $2", description: "Greets" } } })
    const notes = join(project, "notes.txt")
    writeFileSync(notes, "first draft\n")
    model.script({ toolCalls: [{ name: "edit", input: { filePath: notes, oldString: "first draft", newString: "final text" } }] }, "Edited the notes.")
    await sendPrompt(page, "Polish the notes")
    await page.getByText("Edited the notes.").first().waitFor({ timeout: 30_000 })
    const { sessionID } = await finishedTurn()
    await idle(page)
    // the user message's summary.diffs, under the reply and in the review panel
    await page.getByText("1 Changed file").first().waitFor({ timeout: 15_000 })
    await showLastTurnChanges(page)
    await page.locator('[data-slot="session-review-v2-file-name"]', { hasText: "notes.txt" }).waitFor({ timeout: 30_000 })
    await page.getByText("final text").first().waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(shots, "review-last-turn.png") })

    const session = () => api(target(), "GET", `/session/${sessionID}`, { directory: project })
    await slashCommand(page, "undo")
    await until(() => (readIfThere(notes) === "first draft\n" ? true : undefined), { what: "notes.txt put back by /undo" })
    await page.getByText("rolled back message").first().waitFor({ timeout: 15_000 })
    await page.getByText("No file changes yet").first().waitFor({ timeout: 15_000 })
    await page.screenshot({ path: join(shots, "undone.png") })
    expect((await session()).json.revert?.messageID).toMatch(/^msg/)

    // The app lists the undone prompt twice until a reload (upstream's server too), and its redo then re-reverts
    // the same message: after a reload its redo is an unrevert.
    await page.reload()
    await page.getByText("rolled back message").first().waitFor({ timeout: 30_000 })
    await slashCommand(page, "redo")
    await until(() => (readIfThere(notes) === "final text\n" ? true : undefined), { what: "notes.txt edited again by /redo" })
    await until(async () => ((await session()).json.revert === undefined ? true : undefined), { what: "the session no longer reverted" })
    await page.getByText("rolled back message").first().waitFor({ state: "hidden", timeout: 15_000 })
    await page.getByText("Edited the notes.").first().waitFor({ timeout: 15_000 })
    await page.screenshot({ path: join(shots, "redone.png") })
    expect(posted(/\/revert$/)).toEqual([expect.stringMatching(/^200 /)])
    expect(posted(/\/unrevert$/)).toEqual([expect.stringMatching(/^200 /)])

    model.script("Hello, Ada!")
    await slashCommand(page, "greet", "Ada the cake")
    await page.getByText("Hello, Ada!").first().waitFor({ timeout: 30_000 })
    const { messages } = await finishedTurn()
    await idle(page)
    await page.screenshot({ path: join(shots, "custom-command.png") })
    expect(posted(/\/command$/)).toEqual([expect.stringMatching(/^200 /)])
    expect(messages.at(-2).parts.map((part: { text?: string }) => part.text)).toEqual(["Greet Ada warmly, then the cake"])
    expect(unexpectedFailures()).toEqual([])
  }, 180_000)
})
