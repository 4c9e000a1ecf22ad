import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, type ApiResponse, expectNamedError, until, useTarget } from "../support/http.ts"
import { connect, type SseStream } from "../support/sse.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { startPairedEdge, type PairedEdge } from "../support/paired-edge.ts"
import { skillIndex, startSkillIndexServer, type SkillIndexServer } from "../support/skill-index-server.ts"
import { targetKinds } from "../support/targets.ts"

/** How a test reaches the server: a request in the project's directory, its event stream, and the machine's HOME. */
interface Reach {
  call(method: string, path: string, body?: unknown): Promise<ApiResponse>
  events(directory: string): Promise<SseStream>
  home(): string
}

const SKILL_DESCRIPTION = "Use when deploying: the steps to check before a release"
const SKILL_BODY = "\n# Deploy checklist\n\n1. Run scripts/check.sh\n2. Read reference.md\n"
/** A skill served for `skills.urls`. */
const RUNBOOK = "---\nname: runbook\ndescription: Use when on call\n---\nPage the owner first.\n"

/** Upstream's `<skill_content>` block for a skill in `dir` with these sampled files. */
function upstreamOutput(name: string, content: string, dir: string, files: string[]): string {
  return [
    `<skill_content name="${name}">`,
    `# Skill: ${name}`,
    "",
    content.trim(),
    "",
    `Base directory for this skill: ${dir}`,
    "Relative paths in this skill (e.g., scripts/, reference/) are relative to this base directory.",
    "Note: file list is sampled.",
    "",
    "<skill_files>",
    files.map((file) => `<file>${file}</file>`).join("\n"),
    "</skill_files>",
    "</skill_content>",
  ].join("\n")
}

function writeSkill(folder: string, frontmatter: string, body: string) {
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, "SKILL.md"), `---\n${frontmatter}\n---\n${body}`)
}

/**
 * Skills on a runtime: SKILL.md files found on the machine (a project one under `.opencode/skills`, global ones
 * under `~/.claude/skills` and `~/.config/opencode/skills`, one downloaded from a `skills.urls` server), listed by
 * `/skill` and `/api/skill` and as commands by `/command`, offered to the model in the system prompt, and loaded by
 * the model through the skill tool, as upstream.
 */
function skillSuite(reach: Reach) {
  const project = realpathSync(mkdtempSync(join(tmpdir(), "oc-skills-")))
  const skillDir = join(project, ".opencode", "skills", "deploy-checklist")
  const runbookDir = () => join(reach.home(), ".cache", "opencode", "skills", "runbook")
  let model: ModelServer
  let index: SkillIndexServer

  beforeAll(async () => {
    model = await startModelServer()
    index = await startSkillIndexServer({ "/index.json": skillIndex([{ name: "runbook", files: ["SKILL.md"] }]), "/runbook/SKILL.md": RUNBOOK })
    execFileSync("git", ["init", "-q"], { cwd: project })
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "root"], { cwd: project })
    writeSkill(skillDir, `name: deploy-checklist\ndescription: "${SKILL_DESCRIPTION}"`, SKILL_BODY)
    mkdirSync(join(skillDir, "scripts"))
    writeFileSync(join(skillDir, "scripts", "check.sh"), "echo ok\n")
    writeFileSync(join(skillDir, "reference.md"), "# Reference\n")
    writeSkill(join(reach.home(), ".claude", "skills", "house-style"), "name: house-style\ndescription: Use for the house <style> & tone", "Write plainly.\n")
    writeSkill(join(reach.home(), ".config", "opencode", "skills", "release-notes"), "name: release-notes\ndescription: Use when writing release notes", "Group by feature.\n")
    // No name: skipped, as upstream.
    writeSkill(join(project, ".opencode", "skills", "nameless"), "description: never listed", "Nothing.\n")
    const configured = await reach.call("PATCH", "/config", {
      ...fakeProviderConfig(model.baseURL),
      skills: { urls: [index.url] },
      // A command of a skill's name is listed instead of the skill.
      command: { "release-notes": { template: "Notes from the command", description: "The command's" } },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await model?.close()
    await index?.close()
    rmSync(project, { recursive: true, force: true })
  })

  const inProject = (method: string, path: string, body?: unknown) => reach.call(method, `${path}${path.includes("?") ? "&" : "?"}directory=${encodeURIComponent(project)}`, body)

  test("GET /skill lists the built-in skill, the project's, the global ones and the downloaded one, each with its SKILL.md's path and body", async () => {
    const listed = await inProject("GET", "/skill")
    expect(listed.status, listed.text).toBe(200)
    const byName = Object.fromEntries((listed.json as { name: string }[]).map((skill) => [skill.name, skill]))
    expect(Object.keys(byName).sort()).toEqual(["customize-opencode", "deploy-checklist", "house-style", "release-notes", "runbook"])
    // skills.urls: downloaded by the machine into upstream's cache folder.
    expect(byName["runbook"]).toEqual({ name: "runbook", description: "Use when on call", location: join(runbookDir(), "SKILL.md"), content: "Page the owner first.\n" })
    expect(byName["deploy-checklist"]).toEqual({ name: "deploy-checklist", description: SKILL_DESCRIPTION, location: join(skillDir, "SKILL.md"), content: SKILL_BODY })
    expect(byName["house-style"]).toMatchObject({ location: join(reach.home(), ".claude", "skills", "house-style", "SKILL.md"), content: "Write plainly.\n" })
    expect(byName["customize-opencode"]).toMatchObject({ location: "<built-in>", content: expect.stringContaining("# Customizing opencode") })
  })

  test("GET /api/skill lists the config folders' skills in the v2 shape, the built-in one at its own path", async () => {
    const listed = await inProject("GET", "/api/skill")
    expect(listed.status, listed.text).toBe(200)
    expect(listed.json.location.directory).toBe(project)
    const data = listed.json.data as { name: string; location: string }[]
    expect(data.map((skill) => skill.name).sort()).toEqual(["customize-opencode", "deploy-checklist", "release-notes"])
    expect(data.find((skill) => skill.name === "customize-opencode")!.location).toBe("/builtin/customize-opencode.md")
  })

  test("the model is offered the skills and loads one: asked as permission skill, the part holds upstream's skill_content", async () => {
    const stream = await reach.events(project)
    try {
      const rules = [{ permission: "skill", pattern: "*", action: "ask" }]
      const session = (await inProject("POST", "/session", { permission: rules })).json
      model.script({ toolCalls: [{ name: "skill", input: { name: "deploy-checklist" } }] }, { text: "Checked." })
      const turn = inProject("POST", `/session/${session.id}/message`, { parts: [{ type: "text", text: "deploy it" }] })
      const asked = await stream.waitForEvent("permission.asked", (p) => p.sessionID === session.id)
      expect(asked.payload!.properties).toMatchObject({ permission: "skill", patterns: ["deploy-checklist"], always: ["deploy-checklist"] })
      const replied = await inProject("POST", `/permission/${asked.payload!.properties.id}/reply`, { reply: "always" })
      expect(replied.status, replied.text).toBe(200)
      const reply = await turn
      expect(reply.status, reply.text).toBe(200)
      expect(reply.json.info.finish).toBe("stop")

      const messages = (await inProject("GET", `/session/${session.id}/message`)).json
      const part = messages[1].parts.find((candidate: { type: string }) => candidate.type === "tool")
      expect(part.tool).toBe("skill")
      expect(part.state.status, JSON.stringify(part.state)).toBe("completed")
      expect(part.state.title).toBe("Loaded skill: deploy-checklist")
      expect(part.state.metadata).toEqual({ name: "deploy-checklist", dir: skillDir })
      expect(part.state.output).toBe(upstreamOutput("deploy-checklist", SKILL_BODY, skillDir, [join(skillDir, "reference.md"), join(skillDir, "scripts", "check.sh")]))

      const [first, second] = model.requests.filter((request) => request.kind === "step").slice(-2)
      const system = String(first!.body.messages[0].content)
      expect(system).toContain("Skills provide specialized instructions and workflows for specific tasks.\nUse the skill tool to load a skill when a task matches its description.\n<available_skills>")
      expect(system).toContain(
        ["  <skill>", "    <name>deploy-checklist</name>", `    <description>${SKILL_DESCRIPTION}</description>`, `    <location>${join(skillDir, "SKILL.md")}</location>`, "  </skill>"].join("\n"),
      )
      // Sorted by name; the location escaped, the description as written.
      expect(system.indexOf("<name>customize-opencode</name>")).toBeLessThan(system.indexOf("<name>deploy-checklist</name>"))
      expect(system).toContain("<description>Use for the house <style> & tone</description>")
      const tool = first!.body.tools.find((candidate: { function: { name: string } }) => candidate.function.name === "skill")
      expect(tool.function.description).toMatch(/^Load a specialized skill when the task at hand matches one of the skills listed in the system prompt\./)
      expect(tool.function.parameters.required).toEqual(["name"])
      // The loaded skill goes back to the model as the tool's result.
      expect(JSON.stringify(second!.body.messages)).toContain("# Skill: deploy-checklist")
    } finally {
      stream.close()
    }
  })

  test("a skill that does not exist fails the call with upstream's message naming every skill", async () => {
    const session = (await inProject("POST", "/session", {})).json
    model.script({ toolCalls: [{ name: "skill", input: { name: "no-such-skill" } }] }, { text: "Oh." })
    const reply = await inProject("POST", `/session/${session.id}/message`, { parts: [{ type: "text", text: "load it" }] })
    expect(reply.status, reply.text).toBe(200)
    const messages = (await inProject("GET", `/session/${session.id}/message`)).json
    const part = messages[1].parts.find((candidate: { type: string }) => candidate.type === "tool")
    expect(part.state).toMatchObject({
      status: "error",
      error: 'Skill "no-such-skill" not found. Available skills: customize-opencode, deploy-checklist, house-style, release-notes, runbook',
    })
  })

  test("GET /command lists every skill as a command after the others (a command's name wins); /api/command leaves them out", async () => {
    const commands = (await inProject("GET", "/command")).json as { name: string; source: string; template: string }[]
    const bySource = (source: string) => commands.filter((command) => command.source === source).map((command) => command.name)
    expect(bySource("skill").sort()).toEqual(["customize-opencode", "deploy-checklist", "house-style", "runbook"])
    expect(commands.findIndex((command) => command.source === "skill")).toBe(commands.length - 4)
    expect(commands.find((command) => command.name === "release-notes")).toMatchObject({ source: "command", template: "Notes from the command" })
    expect(commands.find((command) => command.name === "deploy-checklist")).toEqual({
      name: "deploy-checklist",
      description: SKILL_DESCRIPTION,
      source: "skill",
      template: `${SKILL_BODY}\n\nBase directory for this skill: ${skillDir}\nRelative paths in this skill (e.g., scripts/, references/) are relative to this base directory.`,
      hints: [],
    })
    // The built-in skill's template is its content alone.
    const builtIn = commands.find((command) => command.name === "customize-opencode")!
    expect(builtIn.template).toMatch(/# Customizing opencode/)
    expect(builtIn.template).not.toContain("Base directory for this skill")

    const v2 = (await inProject("GET", "/api/command")).json.data as { name: string }[]
    expect(v2.map((command) => command.name)).toEqual(["init", "review", "release-notes"])
  })

  test("a skill's command runs as a prompt of its template, the arguments after it", async () => {
    const session = (await inProject("POST", "/session", {})).json
    model.script("On it.")
    const reply = await inProject("POST", `/session/${session.id}/command`, { command: "runbook", arguments: "the API is down" })
    expect(reply.status, reply.text).toBe(200)
    expect(reply.json.info.finish).toBe("stop")
    const [user] = (await inProject("GET", `/session/${session.id}/message`)).json
    expect(user.parts.map((part: { type: string; text?: string }) => [part.type, part.text])).toEqual([
      [
        "text",
        `Page the owner first.\n\n\nBase directory for this skill: ${runbookDir()}\nRelative paths in this skill (e.g., scripts/, references/) are relative to this base directory.\n\nthe API is down`,
      ],
    ])
  })
}

describe.skipIf(!targetKinds().includes("local"))("skills on the local agent", () => {
  const target = useTarget("local")
  skillSuite({
    call: (method, path, body) => api(target(), method, path, body === undefined ? {} : { body }),
    events: (directory) => connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`, { headers: target().authHeaders }),
    home: () => target().home!,
  })
})

describe.skipIf(!targetKinds().includes("worker") || !targetKinds().includes("local"))("skills on the edge, from its paired machine", () => {
  let paired: PairedEdge | undefined
  beforeAll(async () => {
    paired = await startPairedEdge()
  }, 180_000)
  afterAll(async () => {
    await paired?.stop()
  })
  const edge = () => paired!
  skillSuite({
    call: (method, path, body) => api(edge().edge, method, path, { noAuth: true, headers: edge().clientHeaders, ...(body === undefined ? {} : { body }) }),
    events: (directory) => connect(`${edge().edge.url}/event?directory=${encodeURIComponent(directory)}`, { headers: edge().clientHeaders }),
    home: () => edge().machine.home!,
  })

  test("with its machine away, the edge lists no skills and the skill tool answers 503 MachineUnavailable", async () => {
    const call = (method: string, path: string, body?: unknown) =>
      api(edge().edge, method, path, { noAuth: true, headers: edge().clientHeaders, directory: edge().machine.directory, ...(body === undefined ? {} : { body }) })
    edge().tunnel.kill9()
    await until(async () => {
      const listed = await call("GET", "/skill")
      return listed.status === 200 && listed.json.length === 0 ? true : undefined
    })
    expect((await call("GET", "/api/skill")).json.data).toEqual([])
    expectNamedError(await call("POST", "/tool/skill/execute", { name: "deploy-checklist" }), 503, "MachineUnavailable")
  })
})
