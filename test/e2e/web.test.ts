import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, useTarget } from "../support/http.ts"
import { AppOrigin } from "../support/app-origin.ts"
import { REPO_ROOT, targetKinds } from "../support/targets.ts"

/**
 * The official web app in headless Chromium (Debian's, driven by playwright-core), served by each runtime from
 * an upstream `opencode serve` as its origin. Screenshots go to `test-output/web/<target>/` for people to look at.
 */
const CHROMIUM = "/usr/bin/chromium"
const SHOTS = join(REPO_ROOT, "test-output", "web")
const origin = await AppOrigin.create()
// Each runtime's block starts and stops the origin; its folders go when the file is done.
afterAll(() => origin.cleanUp())

describe.skipIf(!existsSync(CHROMIUM)).each(targetKinds())("the web app in Chromium [%s]", (kind) => {
  const appUrl = { OPENCODE_APP_URL: origin.url }
  const target = useTarget(kind, kind === "local" ? { env: appUrl } : { vars: appUrl })
  let browser: Browser
  const shots = join(SHOTS, kind)

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    await origin.start()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
    })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    origin.stop()
  })

  test("the home screen and a project's new-session page render, with the configured model, and every request they make succeeds", async () => {
    const configured = await api(target(), "PATCH", "/config", {
      body: { provider: { fake: { npm: "@ai-sdk/openai-compatible", name: "Fake", options: { baseURL: "http://127.0.0.1:9/v1" }, models: { "fake-1": { name: "Fake 1" } } } }, model: "fake/fake-1" },
    })
    expect(configured.status, configured.text).toBe(200)
    const project = realpathSync(mkdtempSync(join(tmpdir(), "oc-web-project-")))
    execFileSync("git", ["init", "-q"], { cwd: project })
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root"], { cwd: project })

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const failures: string[] = []
    page.on("response", (response) => {
      if (response.url().startsWith(target().url) && response.status() >= 400) failures.push(`${response.status()} ${response.request().method()} ${response.url()}`)
    })
    page.on("pageerror", (error) => failures.push(`page error: ${error.message}`))
    try {
      await page.goto(`${target().url}/`)
      await page.getByText("Add project").waitFor({ timeout: 30_000 })
      await page.screenshot({ path: join(shots, "home.png") })

      // the app's own deep link for a new session in a project: /<base64url(directory)>/session
      await page.goto(`${target().url}/${Buffer.from(project).toString("base64url")}/session`)
      await page.getByText("Ask anything").first().waitFor({ timeout: 30_000 })
      await page.getByText("Fake 1").first().waitFor({ timeout: 30_000 })
      await page.screenshot({ path: join(shots, "new-session.png") })
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
