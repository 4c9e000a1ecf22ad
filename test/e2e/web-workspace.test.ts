import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, until, type ApiOptions } from "../support/http.ts"
import { AppOrigin } from "../support/app-origin.ts"
import { CHROMIUM, launchChromium, watchedPage } from "../support/browser.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { REPO_ROOT, startTarget, targetKinds, type Target } from "../support/targets.ts"

/**
 * The official web app's workspace screens in headless Chromium: the file tree and viewer, the review of a
 * turn's changes, renaming, searching and deleting sessions, the settings dialog, and reloading a session page.
 * Each runs against a server variant; what needs the project's files and git runs only where a machine holds
 * them. Screenshots go to `test-output/web/<variant>/`.
 */
const SHOTS = join(REPO_ROOT, "test-output", "web")

/** A server the app is served by, as a test needs it. */
interface RunningServer {
  target: Target
  /** Headers that authenticate the test's own requests and the browser's. */
  headers: Record<string, string>
  stop(): Promise<void>
}

/**
 * How a server under test is set up. A variant with a machine serves the project's files and git; an edge with a
 * paired machine (test/support/paired-edge.ts) plugs in here as one more variant with `machine: true`.
 */
interface Variant {
  /** Test titles and the screenshot folder. */
  name: string
  /** Whether a machine that holds the project answers for the server (files, git, terminals). */
  machine: boolean
  start(appUrl: string): Promise<RunningServer>
}

const VARIANTS: Record<string, Variant> = {
  local: {
    name: "local",
    machine: true,
    async start(appUrl) {
      const target = await startTarget("local", { env: { OPENCODE_APP_URL: appUrl } })
      return { target, headers: target.authHeaders, stop: () => target.stop() }
    },
  },
  // An open-tenant edge with no machine paired: what only a machine answers is 503 MachineUnavailable.
  worker: {
    name: "worker",
    machine: false,
    async start(appUrl) {
      const target = await startTarget("worker", { vars: { OPENCODE_APP_URL: appUrl } })
      return { target, headers: target.authHeaders, stop: () => target.stop() }
    },
  },
}

const NEEDS_MACHINE = "no machine holds the project here, so its files and git cannot be read"
/** Routes only a machine answers: without one they are 503 MachineUnavailable, and the app copes. */
const MACHINE_ONLY = /^503 GET [^ ]+\/(path|vcs|lsp|file|find|pty)(\/[^ ?]*)?(\?|$)/

const origin = await AppOrigin.create()
afterAll(() => origin.cleanUp())

describe.skipIf(!existsSync(CHROMIUM)).each(targetKinds().map((kind) => VARIANTS[kind]!))("the app's workspace screens [$name]", (variant) => {
  let server: RunningServer
  let browser: Browser
  let model: ModelServer
  let project: string
  const shots = join(SHOTS, variant.name)
  const call = (method: string, path: string, options: ApiOptions = {}) =>
    api(server.target, method, path, { directory: project, ...options, headers: { ...server.headers, ...options.headers } })

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    project = gitProject()
    model = await startModelServer()
    await origin.start()
    server = await variant.start(origin.url)
    const configured = await call("PATCH", "/config", { body: { ...fakeProviderConfig(model.baseURL), permission: { edit: "allow", bash: "allow" } } })
    expect(configured.status, configured.text).toBe(200)
    browser = await launchChromium()
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await model?.close()
    origin.stop()
    if (project) rmSync(project, { recursive: true, force: true })
  })

  /** A page of the app with every failed request to the server and every page error recorded. */
  async function openApp() {
    const { page, failures } = await watchedPage(browser, server.target.url, server.headers, { width: 1500, height: 950 })
    return {
      page,
      /** What went wrong beyond what this variant cannot answer. */
      failures: () => (variant.machine ? failures : failures.filter((failure) => !MACHINE_ONLY.test(failure))),
      close: () => page.close(),
    }
  }

  /** The app's own deep links: a new session in the project, or one of its sessions. */
  const sessionPath = (sessionID = "") => `${server.target.url}/${Buffer.from(project).toString("base64url")}/session${sessionID && `/${sessionID}`}`

  async function createSession(title: string): Promise<string> {
    const created = await call("POST", "/session", { body: { title } })
    expect(created.status, created.text).toBe(200)
    return created.json.id
  }

  /** Types a prompt on a new-session page once the model is known, and waits for the reply and the idle session. */
  async function prompt(page: Page, text: string, reply: string) {
    await page.getByText("Fake 1").first().waitFor({ timeout: 30_000 })
    await page.getByRole("textbox", { name: "Prompt" }).click()
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")
    await page.getByText(reply).first().waitFor({ timeout: 30_000 })
    // the shimmer draws "Thinking" twice, one span over the other: wait until neither shows
    await page.getByText("Thinking").first().waitFor({ state: "hidden", timeout: 15_000 })
  }

  test.skipIf(!variant.machine)(`the file tree lists the project, expands a nested folder and opens a text and a markdown file${variant.machine ? "" : ` (skipped: ${NEEDS_MACHINE})`}`, async () => {
    const sessionID = await createSession("Browsing files")
    const app = await openApp()
    try {
      const { page } = app
      await page.goto(sessionPath(sessionID))
      await page.getByRole("button", { name: "Toggle review" }).click()
      await page.getByRole("button", { name: "Open file", exact: true }).click()
      await page.locator('[data-path="src"]').click()
      await page.locator('[data-path="src/deep"]').click()
      await page.locator('[data-path="src/deep/hello.ts"]').click()
      await page.getByText("export const hello = 'world'").first().waitFor({ timeout: 15_000 })
      await page.screenshot({ path: join(shots, "file-viewer.png") })
      await page.locator('[data-path="README.md"]').click()
      await page.getByText("Some *markdown*.").first().waitFor({ timeout: 15_000 })
      await page.screenshot({ path: join(shots, "file-viewer-markdown.png") })
      expect(app.failures()).toEqual([])
    } finally {
      await app.close()
    }
  }, 90_000)

  test.skipIf(!variant.machine)(`a turn that edits a file shows the file and its diff in the review panel${variant.machine ? "" : ` (skipped: ${NEEDS_MACHINE})`}`, async () => {
    const app = await openApp()
    try {
      const { page } = app
      await page.goto(sessionPath())
      model.script(
        { toolCalls: [{ name: "edit", input: { filePath: "notes.txt", oldString: "second line", newString: "second line, edited by the agent" } }] },
        "I edited the notes.",
      )
      await prompt(page, "Edit the notes, please", "I edited the notes.")
      // the timeline's edit row draws the file's change (filediff.patch, with its unchanged lines), not only oldString → newString
      const editRow = page.locator('[data-component="edit-tool"]').first()
      await editRow.waitFor({ timeout: 15_000 })
      await editRow.locator('[data-component="diff-changes"]', { hasText: "+1" }).waitFor({ timeout: 15_000 })
      await editRow.locator('[data-slot="collapsible-trigger"]').click()
      await editRow.getByText("first line").first().waitFor({ timeout: 15_000 })
      await editRow.screenshot({ path: join(shots, "timeline-edit.png") })
      await page.getByRole("button", { name: "Toggle review" }).click()
      await page.getByText("Git changes").first().waitFor({ timeout: 15_000 })
      // the changed file in the panel's list, and its diff under the file's name
      await page.locator('[data-slot="file-tree-v2-row"][data-path="notes.txt"]').waitFor({ timeout: 15_000 })
      await page.locator('[data-slot="session-review-v2-file-name"]', { hasText: "notes.txt" }).waitFor({ timeout: 15_000 })
      await page.getByText("second line, edited by the agent").first().waitFor({ timeout: 15_000 })
      await page.screenshot({ path: join(shots, "review.png") })
      // what the panel shows is what the server answers
      const diff = await call("GET", "/vcs/diff?mode=git")
      expect(diff.json).toEqual([
        { file: "notes.txt", patch: expect.stringContaining("+second line, edited by the agent"), additions: 1, deletions: 1, status: "modified" },
      ])
      expect(app.failures()).toEqual([])
    } finally {
      await app.close()
      execFileSync("git", ["checkout", "--", "notes.txt"], { cwd: project })
    }
  }, 90_000)

  test("a session is renamed from its menu, found by the command palette's search and deleted; the page follows changes made elsewhere", async () => {
    const alpha = await createSession("Alpha plans")
    const beta = await createSession("Beta notes")
    const app = await openApp()
    try {
      const { page } = app
      await page.goto(sessionPath(alpha))
      await page.getByText("Alpha plans").first().waitFor({ timeout: 30_000 })

      // rename from the session's menu
      await page.getByRole("button", { name: "More options" }).first().click()
      await page.getByRole("menuitem", { name: "Rename" }).click()
      const title = page.locator('input[data-slot="session-title-child"]')
      await title.fill("Alpha renamed in the app")
      await title.press("Enter")
      await until(async () => ((await call("GET", `/session/${alpha}`)).json.title === "Alpha renamed in the app" ? true : undefined), {
        what: "the new title to be stored",
      })
      await page.getByText("Alpha renamed in the app").first().waitFor({ timeout: 15_000 })
      await page.screenshot({ path: join(shots, "session-renamed.png") })

      // renamed by another client: the page learns it from the event stream
      expect((await call("PATCH", `/session/${alpha}`, { body: { title: "Alpha renamed elsewhere" } })).status).toBe(200)
      await page.getByText("Alpha renamed elsewhere").first().waitFor({ timeout: 15_000 })

      // the command palette searches sessions across projects
      await page.keyboard.press("ControlOrMeta+p")
      await page.getByPlaceholder("Search files, commands, and sessions").fill("Beta")
      const found = page.getByRole("dialog").getByText("Beta notes").first()
      await found.waitFor({ timeout: 15_000 })
      await page.screenshot({ path: join(shots, "session-search.png") })
      await found.click()
      await page.waitForURL((url) => url.pathname.endsWith(`/session/${beta}`), { timeout: 15_000 })

      // delete it from its menu
      await page.getByRole("button", { name: "More options" }).first().click()
      await page.getByRole("menuitem", { name: "Delete..." }).click()
      await page.getByRole("dialog").getByRole("button", { name: "Delete session" }).click()
      await until(async () => ((await call("GET", `/session/${beta}`)).status === 404 ? true : undefined), { what: "the session to be deleted" })
      await page.waitForURL((url) => !url.pathname.endsWith(`/session/${beta}`), { timeout: 15_000 })
      const titles = (await call("GET", "/session")).json.map((session: { title: string }) => session.title)
      expect(titles).toContain("Alpha renamed elsewhere")
      expect(titles).not.toContain("Beta notes")
      const search = await call("GET", "/experimental/session?roots=true&search=beta&limit=50")
      expect(search.json).toEqual([])
      expect(app.failures()).toEqual([])
    } finally {
      await app.close()
    }
  }, 90_000)

  test("the settings dialog shows each of its tabs; a server setting changed there is stored", async () => {
    const app = await openApp()
    const patches: string[] = []
    try {
      const { page } = app
      page.on("request", (request) => {
        if (request.method() === "PATCH" && new URL(request.url()).pathname === "/global/config") patches.push(request.postData() ?? "")
      })
      await page.goto(sessionPath())
      await page.getByText("Fake 1").first().waitFor({ timeout: 30_000 })
      await page.keyboard.press("ControlOrMeta+Comma")
      // each tab, and something only that tab shows once it has what it asked the server for
      const tabs: [string, string][] = [
        ["General", "Language"],
        ["Shortcuts", "Keyboard shortcuts"],
        ["Servers", new URL(server.target.url).host],
        ["Providers", "Connected providers"],
        ["Models", "Fake 1"],
      ]
      for (const [tab, shown] of tabs) {
        await page.getByRole("tab", { name: tab }).click()
        await page.getByRole("dialog").getByText(shown).first().waitFor({ timeout: 15_000 })
        await page.screenshot({ path: join(shots, `settings-${tab.toLowerCase()}.png`) })
      }

      if (variant.machine) {
        // the shell list comes from the machine; the choice goes to the server's global config
        await page.getByRole("tab", { name: "General" }).click()
        await page.locator('[data-action="settings-shell"] [role="button"]').click()
        await page.locator('[role="option"]:not([data-key="auto"])').last().click()
        await until(() => (patches.length > 0 ? true : undefined), { what: "the app to send the shell" })
        const sent = JSON.parse(patches.at(-1)!)
        expect(typeof sent.shell).toBe("string")
        await until(async () => ((await call("GET", "/global/config")).json.shell === sent.shell ? true : undefined), { what: "the shell to be stored" })
      }

      // disconnecting a configured provider disables it in the server's global config
      await page.getByRole("tab", { name: "Providers" }).click()
      await page.getByRole("button", { name: "Disconnect" }).first().click()
      await page.getByText("No connected providers").first().waitFor({ timeout: 15_000 })
      expect((await call("GET", "/global/config")).json.disabled_providers).toEqual(["fake"])
      expect((await call("GET", "/provider")).json.connected).toEqual([])
      await page.screenshot({ path: join(shots, "settings-disconnected.png") })
      expect(app.failures()).toEqual([])
    } finally {
      await app.close()
      expect((await call("PATCH", "/global/config", { body: { disabled_providers: [] } })).status).toBe(200)
    }
  }, 90_000)

  test("reloading a session page shows the same session and its messages again", async () => {
    const app = await openApp()
    try {
      const { page } = app
      await page.goto(sessionPath())
      model.script({ text: ["Noted: ", "the reload ", "test."], chunkDelayMs: 50 })
      await prompt(page, "Remember this before the reload", "Noted: the reload test.")
      await page.waitForURL(/\/session\/ses/, { timeout: 15_000 })
      const before = page.url()
      await page.reload()
      await page.getByText("Remember this before the reload").first().waitFor({ timeout: 30_000 })
      await page.getByText("Noted: the reload test.").first().waitFor({ timeout: 30_000 })
      expect(page.url()).toBe(before)
      await page.screenshot({ path: join(shots, "reloaded.png") })
      expect(app.failures()).toEqual([])
    } finally {
      await app.close()
    }
  }, 90_000)
})

/** A committed git repository: a nested folder, a text file and a markdown file. */
function gitProject(): string {
  const project = realpathSync(mkdtempSync(join(tmpdir(), "oc-web-workspace-")))
  mkdirSync(join(project, "src", "deep"), { recursive: true })
  writeFileSync(join(project, "src", "deep", "hello.ts"), "export const hello = 'world'\n")
  writeFileSync(join(project, "notes.txt"), "first line\nsecond line\n")
  writeFileSync(join(project, "README.md"), "# Workspace\n\nSome *markdown*.\n")
  execFileSync("git", ["init", "-q"], { cwd: project })
  execFileSync("git", ["add", "-A"], { cwd: project })
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "root"], { cwd: project })
  return project
}
