import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, until, useTarget } from "../support/http.ts"
import { AppOrigin } from "../support/app-origin.ts"
import { CHROMIUM, launchChromium, watchedPage } from "../support/browser.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { REPO_ROOT, targetKinds } from "../support/targets.ts"

/**
 * The official web app in headless Chromium (Debian's, driven by playwright-core), served by each runtime from
 * an upstream `opencode serve` as its origin. Screenshots go to `test-output/web/<target>/` for people to look at.
 */
const SHOTS = join(REPO_ROOT, "test-output", "web")
const origin = await AppOrigin.create()
// Each runtime's block starts and stops the origin; its folders go when the file is done.
afterAll(() => origin.cleanUp())

describe.skipIf(!existsSync(CHROMIUM)).each(targetKinds())("the web app in Chromium [%s]", (kind) => {
  const appUrl = { OPENCODE_APP_URL: origin.url }
  const target = useTarget(kind, kind === "local" ? { env: appUrl } : { vars: appUrl })
  let browser: Browser
  let model: ModelServer
  const shots = join(SHOTS, kind)

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

  test("the home screen and a project's session page render; a prompt typed in the app streams its reply and tool call; every request succeeds", async () => {
    const configured = await api(target(), "PATCH", "/config", { body: { ...fakeProviderConfig(model.baseURL), permission: { bash: "allow" } } })
    expect(configured.status, configured.text).toBe(200)
    const project = realpathSync(mkdtempSync(join(tmpdir(), "oc-web-project-")))
    execFileSync("git", ["init", "-q"], { cwd: project })
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root"], { cwd: project })

    const { page, failures } = await watchedPage(browser, target().url)
    try {
      await page.goto(`${target().url}/`)
      await page.getByText("Add project").waitFor({ timeout: 30_000 })
      await page.screenshot({ path: join(shots, "home.png") })

      // the app's own deep link for a new session in a project: /<base64url(directory)>/session
      await page.goto(`${target().url}/${Buffer.from(project).toString("base64url")}/session`)
      await page.getByText("Ask anything").first().waitFor({ timeout: 30_000 })
      await page.getByText("Fake 1").first().waitFor({ timeout: 30_000 })
      await page.screenshot({ path: join(shots, "new-session.png") })

      // A prompt typed in the app: locally the model runs bash on this machine first (the edge here has no machine).
      const reply = { text: ["The answer ", "is ", "forty-two."], chunkDelayMs: 300 }
      if (kind === "local") model.script({ toolCalls: [{ name: "bash", input: { command: "echo web-tool-$((6*7))" } }] }, reply)
      else model.script(reply)
      await page.keyboard.type("Run the tool, please")
      await page.keyboard.press("Enter")
      await page.getByText("The answer is forty-two.").first().waitFor({ timeout: 30_000 })
      if (kind === "local") await page.getByText("echo web-tool-$((6*7))").first().waitFor({ timeout: 10_000 })
      // the screen shows the streamed text before the turn has stored its end: wait for that
      const sessions = (await api(target(), "GET", "/session", { directory: project })).json
      const messages = await until(async () => {
        const stored = (await api(target(), "GET", `/session/${sessions[0].id}/message`, { directory: project })).json
        return stored.at(-1)?.info.time.completed ? stored : undefined
      })
      expect(messages.at(-1).parts.find((part: { type: string }) => part.type === "text").text).toBe("The answer is forty-two.")
      // the app shows the turn as done once the session is idle
      // (the shimmer draws "Thinking" twice, one span over the other: wait until neither shows)
      await page.getByText("Thinking").first().waitFor({ state: "hidden", timeout: 15_000 })
      await page.screenshot({ path: join(shots, "reply.png") })
      if (kind === "local") expect(messages[1].parts.find((part: { type: string }) => part.type === "tool").state.output).toContain("web-tool-42")

      // This edge has no machine paired: what only a machine answers (paths, git, language servers) is 503
      // MachineUnavailable, and the page copes. With a machine it answers through the tunnel (test/edge/).
      const machineOnly = /^503 GET [^ ]+\/(path|vcs|lsp)(\?|$)/
      expect(kind === "worker" ? failures.filter((failure) => !machineOnly.test(failure)) : failures).toEqual([])
    } finally {
      await page.close()
      rmSync(project, { recursive: true, force: true })
    }
  }, 90_000)
})
