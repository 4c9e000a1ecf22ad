import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest"
import { api, until, useTarget } from "../support/http.ts"
import { AppOrigin } from "../support/app-origin.ts"
import { CHROMIUM, launchChromium, watchedPage, type WatchedPage } from "../support/browser.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { REPO_ROOT, targetKinds, type Target, type TargetKind } from "../support/targets.ts"

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
  kind: TargetKind
  /** Whether a machine runs bash and terminals for this target. */
  machine: boolean
}

const VARIANTS: Variant[] = targetKinds().map((kind) => ({ name: kind, kind, machine: kind === "local" }))
const SHOTS = join(REPO_ROOT, "test-output", "web")
const origin = await AppOrigin.create()
afterAll(() => origin.cleanUp())

describe.skipIf(!existsSync(CHROMIUM)).each(VARIANTS)("the web app's chat screens in Chromium [$name]", (variant) => {
  const appUrl = { OPENCODE_APP_URL: origin.url }
  const target = useTarget(variant.kind, variant.kind === "local" ? { env: appUrl } : { vars: appUrl })
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
    rmSync(project, { recursive: true, force: true })
  })

  /** Configures the fake provider (and `extra`), makes a git project and opens the app's new-session page in it. */
  async function openNewSession(extra: Record<string, unknown> = {}, config = fakeProviderConfig(model.baseURL)): Promise<Page> {
    const configured = await api(target(), "PATCH", "/config", { body: { ...config, ...extra } })
    expect(configured.status, configured.text).toBe(200)
    project = realpathSync(mkdtempSync(join(tmpdir(), "oc-web-chat-")))
    execFileSync("git", ["init", "-q"], { cwd: project })
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root"], { cwd: project })
    watched = await watchedPage(browser, target().url)
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

  /** On the worker, what only a machine answers (paths, git, language servers) is 503 MachineUnavailable. */
  function unexpectedFailures(): string[] {
    const machineOnly = /^503 GET [^ ]+\/(path|vcs|lsp)(\?|$)/
    return watched!.failures.filter((failure) => variant.machine || !machineOnly.test(failure))
  }

  /** A tool that asks before it runs: bash where a machine runs it, else webfetch (the runtime fetches for itself). */
  const asking = variant.machine
    ? { permission: "bash", call: (n: number) => ({ name: "bash", input: { command: `echo perm-$((${n}*7))`, description: "Print a number" } }), output: (n: number) => `perm-${n * 7}` }
    : { permission: "webfetch", call: (n: number) => ({ name: "webfetch", input: { url: `${origin.url}/?n=${n}`, format: "text" } }), output: () => "" }

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
    expect(watched!.answered.filter((line) => /\/permission|\/permissions\//.test(line) && line.includes("POST"))).toEqual([
      expect.stringMatching(/^200 POST /),
    ])
    expect(unexpectedFailures()).toEqual([])
  }, 120_000)
})
