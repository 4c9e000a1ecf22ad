import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { api, text, until, useTarget } from "../support/http.ts"
import { REPO_ROOT, targetKinds } from "../support/targets.ts"

/** The official terminal client, from the npm package opencode-ai (a devDependency), run offline. */
const OPENCODE = join(REPO_ROOT, "node_modules", ".bin", "opencode")
const hasTmux = spawnSync("tmux", ["-V"]).status === 0
const SCREEN_WAIT_MS = 45_000

/** `opencode attach` in a detached tmux session: keys in, screen text out. */
class Tui {
  constructor(readonly name: string) {}

  static start(url: string, directory: string): Tui {
    const tui = new Tui(`oc-tui-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
    const home = mkdtempSync(join(tmpdir(), "oc-tui-home-"))
    const command = `cd ${directory} && HOME=${home} OPENCODE_DISABLE_AUTOUPDATE=1 ${OPENCODE} attach --dir ${directory} ${url}`
    execFileSync("tmux", ["new-session", "-d", "-s", tui.name, "-x", "160", "-y", "45", command])
    return tui
  }

  screen(): string {
    return spawnSync("tmux", ["capture-pane", "-t", this.name, "-p"], { encoding: "utf8" }).stdout ?? ""
  }

  /** One key at a time, with a short pause: the client reads a leader key (ctrl+x) and the next key apart. */
  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      execFileSync("tmux", ["send-keys", "-t", this.name, key])
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  }

  waitGone(needle: string): Promise<void> {
    return until(() => (this.screen().includes(needle) ? undefined : true), {
      what: `"${needle}" to leave the screen`,
      timeoutMs: SCREEN_WAIT_MS,
      intervalMs: 250,
    }).then(() => undefined)
  }

  waitFor(needle: string): Promise<string> {
    return until(() => (this.screen().includes(needle) ? this.screen() : undefined), {
      what: `"${needle}" on the terminal client's screen`,
      timeoutMs: SCREEN_WAIT_MS,
      intervalMs: 250,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; the screen was:\n${this.screen()}`)
    })
  }

  stop(): void {
    spawnSync("tmux", ["kill-session", "-t", this.name])
  }
}

describe.skipIf(!hasTmux || !existsSync(OPENCODE)).each(targetKinds())("the official OpenCode TUI attaches [%s]", (kind) => {
  const target = useTarget(kind)
  let tui: Tui | undefined
  afterEach(() => tui?.stop())

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

      tui = Tui.start(target().url, directory)
      await tui.waitFor("Ask anything")
      // No provider is configured, and truthfully so: the client offers to connect one. Close that offer.
      await tui.waitFor("Custom provider")
      await tui.keys("Escape")
      await tui.waitGone("Custom provider")
      await tui.keys("C-x", "l")
      await tui.waitFor("Visible from the TUI")
      await tui.keys("Enter")
      await tui.waitFor("hello from the conformance test")

      const renamed = await api(target(), "PATCH", `/session/${session.id}`, { directory, body: { title: "Renamed over HTTP" } })
      expect(renamed.status, renamed.text).toBe(200)
      await tui.waitFor("Renamed over HTTP")

      // Remote control: the tui.* events the /tui routes publish drive the real client.
      expect((await api(target(), "POST", "/tui/show-toast", { directory, body: { message: "Toast over HTTP", variant: "info" } })).json).toBe(true)
      await tui.waitFor("Toast over HTTP")
      expect((await api(target(), "POST", "/tui/append-prompt", { directory, body: { text: "typed over HTTP" } })).json).toBe(true)
      await tui.waitFor("typed over HTTP")
      await tui.keys("C-u")

      // A tool call for the session that needs permission: the client shows the request, Enter allows it once.
      await api(target(), "PATCH", "/config", { body: { permission: { todowrite: "ask" } } })
      const todos = [{ content: "Ship it", status: "pending", priority: "high" }]
      const gated = api(target(), "POST", `/tool/todowrite/execute?sessionID=${session.id}`, { directory, body: { todos } })
      await tui.waitFor("Permission required")
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
      await tui.waitFor("Which database?")
      await tui.keys("Down", "Enter")
      const answered = await asked
      expect(answered.json?.metadata, answered.text).toEqual({ answers: [["Postgres"]] })
    },
    SCREEN_WAIT_MS * 5,
  )
})
