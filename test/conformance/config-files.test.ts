import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { describe, expect, test } from "vitest"
import { api, expectNamedError, useTarget } from "../support/http.ts"
import { targetKinds, type Target } from "../support/targets.ts"

/** Writes `text` to `path`, making its folders. */
function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

/** A fresh real folder (no symlinks in its path, so the paths the server reports compare as written). */
const folder = (label: string) => realpathSync(mkdtempSync(join(tmpdir(), `oc-config-${label}-`)))

const LAYERS = ["global", "OPENCODE_CONFIG", "root", "leaf", "CONFIG_CONTENT", "dotopencode", "patch"] as const

/**
 * Layer i sets `experimental.k<j>` to its own name for every j >= i, so `k<j>` ends up naming layer j exactly
 * when every layer wins over those before it: one wrong pair of the order shows as a wrong value.
 */
function markers(layer: (typeof LAYERS)[number]) {
  const index = LAYERS.indexOf(layer)
  return Object.fromEntries(LAYERS.slice(index).map((_, offset) => [`k${index + offset}`, layer]))
}
const EXPECTED = Object.fromEntries(LAYERS.map((layer, index) => [`k${index}`, layer]))

const get = (target: Target, path: string, directory: string) => api(target, "GET", path, { directory })

describe.skipIf(!targetKinds().includes("local"))("config files on the local agent", () => {
  // A git worktree with the request's directory two levels down; OPENCODE_CONFIG elsewhere.
  const root = folder("project")
  mkdirSync(join(root, ".git"))
  const leaf = join(root, "packages", "app")
  mkdirSync(leaf, { recursive: true })
  const elsewhere = folder("elsewhere")
  const configFile = join(elsewhere, "custom.json")
  const content = { experimental: markers("CONFIG_CONTENT"), instructions: ["content.md"] }
  const target = useTarget("local", {
    env: {
      OPENCODE_CONFIG: configFile,
      OPENCODE_CONFIG_CONTENT: JSON.stringify(content),
      OC_TEST_USER: 'ada "the" lovelace',
    },
  })
  const globalFolder = () => join(target().home!, ".config", "opencode")

  test("every source in upstream's order, lowest first, with the PATCH layer on top; instructions add up", async () => {
    write(join(globalFolder(), "opencode.json"), JSON.stringify({ experimental: markers("global"), instructions: ["global.md"], theme: "g" }))
    write(configFile, JSON.stringify({ experimental: markers("OPENCODE_CONFIG") }))
    write(join(root, "opencode.json"), JSON.stringify({ experimental: markers("root"), instructions: ["root.md", "global.md"] }))
    // JSONC: comments and trailing commas
    write(
      join(leaf, "opencode.jsonc"),
      `// the leaf's config
{
  /* markers */ "experimental": ${JSON.stringify(markers("leaf"))},
  "share": "manual", // trailing comma next
}
`,
    )
    write(join(leaf, ".opencode", "opencode.json"), JSON.stringify({ experimental: markers("dotopencode") }))
    // a directory above the worktree root is not the project's
    write(join(dirname(root), "opencode.json"), JSON.stringify({ experimental: { k6: "above-the-worktree" } }))

    const patched = await api(target(), "PATCH", "/config", { directory: leaf, body: { experimental: markers("patch") } })
    expect(patched.status, patched.text).toBe(200)
    expect(patched.json.experimental).toEqual(EXPECTED)

    const config = (await get(target(), "/config", leaf)).json
    expect(config.experimental).toEqual(EXPECTED)
    expect(config).toMatchObject({ theme: "g", share: "manual" })
    expect(config.instructions).toEqual(["global.md", "root.md", "content.md"])
    // From the worktree root, the leaf's files are not in the way; the stored layer still is.
    const fromRoot = (await get(target(), "/config", root)).json
    expect(fromRoot.experimental).toMatchObject({ k2: "root", k3: "root", k4: "CONFIG_CONTENT", k6: "patch" })
    rmSync(join(dirname(root), "opencode.json"))
  })

  test("{env:} and {file:} substitutions, relative to the file's folder and ~/", async () => {
    write(join(leaf, "prompts", "filed.txt"), 'Say "hi"\nthen stop\n\n')
    write(join(target().home!, "key.txt"), "sk-from-home\n")
    write(
      join(leaf, "opencode.json"),
      `{
  "username": "{env:OC_TEST_USER}",
  "small_model": "x/{env:OC_TEST_UNSET_VARIABLE}y",
  // "theme": "{file:missing.txt}" is commented out, so never read
  "agent": { "filed": { "prompt": "{file:prompts/filed.txt}" } },
  "provider": { "p": { "options": { "apiKey": "{file:~/key.txt}" } } }
}`,
    )
    const config = (await get(target(), "/config", leaf)).json
    expect(config.username).toBe('ada "the" lovelace')
    expect(config.small_model).toBe("x/y")
    expect(config.agent.filed.prompt).toBe('Say "hi"\nthen stop')
    expect(config.provider.p.options.apiKey).toBe("sk-from-home")
    const agents = (await get(target(), "/agent", leaf)).json as { name: string; prompt?: string }[]
    expect(agents.find((agent) => agent.name === "filed")?.prompt).toBe('Say "hi"\nthen stop')

    write(join(leaf, "opencode.json"), `{ "theme": "{file:nowhere.txt}" }`)
    const missing = await get(target(), "/config", leaf)
    expectNamedError(missing, 400, "ConfigInvalidError")
    expect(missing.json.data.path).toBe(join(leaf, "opencode.json"))
    expect(missing.json.data.message).toContain(join(leaf, "nowhere.txt"))
    rmSync(join(leaf, "opencode.json"))
  })

  test("markdown agents and commands from .opencode folders show in GET /agent and GET /command", async () => {
    write(
      join(leaf, ".opencode", "agent", "reviewer.md"),
      `---
description: Reviews changes
mode: subagent
model: acme/large
temperature: 0.2
permission:
  edit: deny
---

You review diffs. Be brief.
`,
    )
    write(join(root, ".opencode", "commands", "deploy.md"), `---\ndescription: Ship it\nagent: build\n---\nDeploy $1 to $ARGUMENTS\n`)
    // ~/.opencode and the global folder bring theirs too; no frontmatter is fine
    write(join(target().home!, ".opencode", "agents", "homebody.md"), "Stay home.\n")
    write(join(globalFolder(), "command", "hello.md"), "Say hello\n")

    const agents = (await get(target(), "/agent", leaf)).json as Record<string, any>[]
    const reviewer = agents.find((agent) => agent.name === "reviewer")
    expect(reviewer).toMatchObject({
      name: "reviewer",
      description: "Reviews changes",
      mode: "subagent",
      model: { providerID: "acme", modelID: "large" },
      temperature: 0.2,
      prompt: "You review diffs. Be brief.",
      builtIn: false,
    })
    expect(reviewer!.permission.at(-1)).toEqual({ permission: "edit", pattern: "*", action: "deny" })
    expect(agents.find((agent) => agent.name === "homebody")?.prompt).toBe("Stay home.")

    const commands = (await get(target(), "/command", leaf)).json as Record<string, any>[]
    expect(commands.find((command) => command.name === "deploy")).toMatchObject({
      description: "Ship it",
      agent: "build",
      template: "Deploy $1 to $ARGUMENTS",
      hints: ["$1", "$ARGUMENTS"],
    })
    expect(commands.find((command) => command.name === "hello")?.template).toBe("Say hello")
    const config = (await get(target(), "/config", leaf)).json
    expect(config.agent.reviewer).toMatchObject({ mode: "subagent", prompt: "You review diffs. Be brief." })
    expect(config.command.deploy).toMatchObject({ template: "Deploy $1 to $ARGUMENTS" })

    // A frontmatter that does not parse names the file and the place.
    write(join(leaf, ".opencode", "agent", "broken.md"), "---\ndescription: [unclosed\n---\nbody\n")
    const broken = await get(target(), "/agent", leaf)
    expectNamedError(broken, 400, "ConfigFrontmatterError")
    expect(broken.json.data.path).toBe(join(leaf, ".opencode", "agent", "broken.md"))
    expect(broken.json.data.message).toMatch(/ at \d+:\d+/)
    rmSync(join(leaf, ".opencode", "agent", "broken.md"))
  })

  test("a broken file: ConfigJsonError with its path and line:column on the config routes; sessions keep working", async () => {
    const broken = folder("broken")
    write(join(broken, "opencode.json"), `{\n  "theme": "x",\n  "share" "manual"\n}\n`)
    const answer = await get(target(), "/config", broken)
    expectNamedError(answer, 400, "ConfigJsonError")
    expect(answer.json.data.path).toBe(join(broken, "opencode.json"))
    expect(answer.json.data.message).toContain("ColonExpected at 3:11")
    for (const path of ["/agent", "/command", "/mcp", "/provider", "/config/providers", "/api/agent"]) {
      expectNamedError(await get(target(), path, broken), 400, "ConfigJsonError")
    }
    // A PATCH there fails before anything is stored.
    expectNamedError(await api(target(), "PATCH", "/config", { directory: broken, body: { username: "no" } }), 400, "ConfigJsonError")
    expect((await get(target(), "/config", leaf)).json.username).toBeUndefined()

    // Everything else works.
    const created = await api(target(), "POST", "/session", { directory: broken, body: {} })
    expect(created.status, created.text).toBe(200)
    const sessions = await get(target(), "/session", broken)
    expect(sessions.status, sessions.text).toBe(200)
    expect(sessions.json.map((session: { id: string }) => session.id)).toContain(created.json.id)
    expect((await get(target(), "/file?path=.", broken)).status).toBe(200)

    // A tool call for a session there needs the permission rules, so it answers the error too.
    const tool = await api(target(), "POST", `/tool/read/execute?sessionID=${created.json.id}`, { directory: broken, body: { filePath: "x" } })
    expectNamedError(tool, 400, "ConfigJsonError")

    // An invalid field: ConfigInvalidError with the issue's path.
    write(join(broken, "opencode.json"), JSON.stringify({ share: "sometimes" }))
    const invalid = await get(target(), "/config", broken)
    expectNamedError(invalid, 400, "ConfigInvalidError")
    expect(invalid.json.data.path).toBe(join(broken, "opencode.json"))
    expect(invalid.json.data.issues.map((issue: { path: string[] }) => issue.path)).toEqual([["share"]])
  })

  test("a change to a file is seen by the next request", async () => {
    const project = folder("changing")
    const file = join(project, "opencode.json")
    write(file, JSON.stringify({ theme: "first" }))
    expect((await get(target(), "/config", project)).json.theme).toBe("first")
    write(file, JSON.stringify({ theme: "second" }))
    expect((await get(target(), "/config", project)).json.theme).toBe("second")
    // same size, same second: still seen
    write(file, JSON.stringify({ theme: "third!" }))
    expect((await get(target(), "/config", project)).json.theme).toBe("third!")
    rmSync(file)
    expect((await get(target(), "/config", project)).json.theme).toBe("g")
  })

  test("a change behind a link, in a folder made later, to a {file:} target or to the worktree root is seen by the next request", async () => {
    const project = folder("kept")
    const leaf = join(project, "sub")
    const theme = async () => (await get(target(), "/config", leaf)).json.theme
    const real = join(folder("linked"), "real.json")
    write(real, JSON.stringify({ theme: "linked-1" }))
    mkdirSync(leaf)
    symlinkSync(real, join(leaf, "opencode.json"))
    expect(await theme()).toBe("linked-1")
    write(real, JSON.stringify({ theme: "linked-2" }))
    expect(await theme()).toBe("linked-2")
    // .opencode does not exist yet: its later opencode.json wins over the linked file
    write(join(leaf, ".opencode", "opencode.json"), JSON.stringify({ theme: "{file:../theme.txt}" }))
    write(join(leaf, "theme.txt"), "filed-1")
    expect(await theme()).toBe("filed-1")
    write(join(leaf, "theme.txt"), "filed-2")
    expect(await theme()).toBe("filed-2")
    // a .git above makes `project` the worktree root, so its opencode.json counts, under the leaf's files
    rmSync(join(leaf, ".opencode"), { recursive: true })
    rmSync(join(leaf, "opencode.json"))
    write(join(project, "opencode.json"), JSON.stringify({ theme: "root" }))
    expect(await theme()).not.toBe("root")
    mkdirSync(join(project, ".git"))
    expect(await theme()).toBe("root")
  })
})

describe.skipIf(!targetKinds().includes("local"))("OPENCODE_DISABLE_PROJECT_CONFIG", () => {
  const project = folder("disabled")
  write(join(project, "opencode.json"), JSON.stringify({ theme: "project" }))
  write(join(project, ".opencode", "command", "local.md"), "project command\n")
  const target = useTarget("local", {
    env: { OPENCODE_DISABLE_PROJECT_CONFIG: "true", OPENCODE_CONFIG_CONTENT: JSON.stringify({ username: "inline" }) },
  })

  test("the project's files and .opencode folder are skipped; the global file and the inline config are not", async () => {
    write(join(target().home!, ".config", "opencode", "opencode.jsonc"), `{ "share": "disabled", }`)
    const config = (await get(target(), "/config", project)).json
    expect(config).toEqual({ share: "disabled", username: "inline" })
    // only upstream's built-ins (and its built-in skill): the project's command file is skipped
    expect(((await get(target(), "/command", project)).json as { name: string }[]).map((command) => command.name)).toEqual(["init", "review", "customize-opencode"])
  })
})
