import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, sdk, text, useTarget } from "../support/http.ts"
import { startModelServer, type ModelServer } from "../support/model-server.ts"

/**
 * What a turn tells the model on the local agent: the system prompt's instructions (AGENTS.md up the worktree,
 * CLAUDE.md where there is no AGENTS.md, the user's global one, the config's `instructions`), the environment,
 * and the files a prompt attaches (`file://` read on the machine, a directory listed, an image as an attachment).
 */
describe("turn context on the local agent", () => {
  const target = useTarget("local")
  let model: ModelServer
  const repo = realpathSync(mkdtempSync(join(tmpdir(), "oc-turn-context-")))
  const nested = join(repo, "packages", "app")

  beforeAll(async () => {
    model = await startModelServer()
    execFileSync("git", ["init", "-q"], { cwd: repo })
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root"], { cwd: repo })
    mkdirSync(join(nested, "src"), { recursive: true })
    mkdirSync(join(repo, "docs"), { recursive: true })
    writeFileSync(join(repo, "AGENTS.md"), "ROOT-RULE: use tabs\n")
    writeFileSync(join(repo, "packages", "CLAUDE.md"), "PACKAGES-RULE: no default exports\n")
    writeFileSync(join(nested, "AGENTS.md"), "APP-RULE: keep components small\n")
    writeFileSync(join(nested, "CLAUDE.md"), "IGNORED: an AGENTS.md is in the same folder\n")
    writeFileSync(join(repo, "docs", "rules.md"), "CONFIG-RULE: cite sources\n")
    writeFileSync(join(nested, "src", "main.ts"), "export const answer = 42\n")
    mkdirSync(join(target().home!, ".config", "opencode"), { recursive: true })
    writeFileSync(join(target().home!, ".config", "opencode", "AGENTS.md"), "GLOBAL-RULE: be brief\n")
    const configured = await api(target(), "PATCH", "/config", {
      body: {
        provider: {
          fake: {
            npm: "@ai-sdk/openai-compatible",
            options: { baseURL: model.baseURL },
            models: { "fake-1": { name: "Fake 1", modalities: { input: ["text", "image"], output: ["text"] } } },
          },
        },
        model: "fake/fake-1",
        instructions: ["docs/rules.md", "missing.md"],
      },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await model?.close()
    rmSync(repo, { recursive: true, force: true })
  })

  test("the system prompt holds the environment and every instruction file, nearest last", async () => {
    const client = sdk(target(), nested)
    const session = (await client.session.create({ body: {} })).data!
    model.script({ text: "ok" })
    await client.session.prompt({ path: { id: session.id }, body: { parts: [text("hello")] } })
    const system = String(model.requests.filter((r) => r.kind === "step").at(-1)!.body.messages[0].content)
    expect(system).toContain(`Working directory: ${nested}`)
    expect(system).toContain(`Worktree root: ${repo}`)
    expect(system).toContain("Is directory a git repo: yes")
    const order = ["ROOT-RULE", "PACKAGES-RULE", "APP-RULE", "GLOBAL-RULE", "CONFIG-RULE"].map((rule) => system.indexOf(rule))
    expect(order.every((at) => at >= 0), system).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(system).not.toContain("IGNORED")
  })

  test("attached files: file:// read on the machine, a directory listed, an image sent as an attachment", async () => {
    const client = sdk(target(), nested)
    const session = (await client.session.create({ body: {} })).data!
    model.script({ text: "seen" })
    const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    const reply = await client.session.prompt({
      path: { id: session.id },
      body: {
        parts: [
          text("look at these"),
          { type: "file", mime: "text/plain", filename: "main.ts", url: `file://${join(nested, "src", "main.ts")}` },
          { type: "file", mime: "application/x-directory", filename: "src", url: `file://${join(nested, "src")}` },
          { type: "file", mime: "image/png", filename: "pixel.png", url: `data:image/png;base64,${pixel}` },
        ],
      },
    })
    expect((reply.data as any).info.finish).toBe("stop")
    const user = model.requests.filter((r) => r.kind === "step").at(-1)!.body.messages.at(-1)
    const content = JSON.stringify(user.content)
    expect(content).toContain("export const answer = 42")
    expect(content).toContain("main.ts")
    expect(user.content.some((part: any) => part.type === "image_url" && part.image_url.url.startsWith("data:image/png;base64,"))).toBe(true)
  })
})
