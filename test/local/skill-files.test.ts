import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, test } from "vitest"
import { createSkillFileService } from "../../local-agent/machine/skills.ts"
import { skillIndex, startSkillIndexServer } from "../support/skill-index-server.ts"

/** Where the machine looks for SKILL.md files, in upstream's order, and what the env flags switch off. */
describe("the machine's SKILL.md files", () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "oc-skill-files-")))
  const home = join(root, "home")
  const repo = join(root, "repo")
  const nested = join(repo, "packages", "app")
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  const skill = (folder: string) => {
    mkdirSync(folder, { recursive: true })
    writeFileSync(join(folder, "SKILL.md"), `---\nname: ${folder.split("/").at(-1)}\n---\nbody\n`)
    return join(folder, "SKILL.md")
  }
  mkdirSync(nested, { recursive: true })
  execFileSync("git", ["init", "-q"], { cwd: repo })
  const claudeGlobal = skill(join(home, ".claude", "skills", "a"))
  const agentsGlobal = skill(join(home, ".agents", "skills", "deep", "b"))
  const agentsNested = skill(join(nested, ".agents", "skills", "c"))
  const claudeRoot = skill(join(repo, ".claude", "skills", "d"))
  const configGlobal = skill(join(home, ".config", "opencode", "skill", "e"))
  const opencodeProject = skill(join(repo, ".opencode", "skills", "f"))
  const hiddenInConfig = skill(join(repo, ".opencode", "skills", ".hidden", "g"))
  const extra = skill(join(root, "extra", "h"))
  const outside = skill(join(root, ".claude", "skills", "above-the-worktree"))
  // A linked skill folder is followed; a link back up is not walked twice.
  symlinkSync(join(root, "extra", "h"), join(home, ".claude", "skills", "linked"))
  symlinkSync(join(home, ".claude"), join(home, ".claude", "skills", "loop"))
  writeFileSync(join(repo, ".opencode", "skills", "f", "notes.md"), "n\n")
  mkdirSync(join(repo, ".opencode", "skills", "f", "scripts"))
  writeFileSync(join(repo, ".opencode", "skills", "f", "scripts", "run.sh"), "echo\n")

  const find = (env: Record<string, string> = {}, paths: string[] = [], urls: string[] = []) =>
    createSkillFileService({ env: { XDG_CONFIG_HOME: join(home, ".config"), ...env }, home }).find(nested, paths, urls)

  test("external folders (home, then the directory up to the worktree root), config folders, then skills.paths", async () => {
    const found = await find({}, ["../../../extra"])
    expect(found.map((file) => file.location)).toEqual([
      claudeGlobal,
      join(home, ".claude", "skills", "linked", "SKILL.md"),
      agentsGlobal,
      agentsNested,
      claudeRoot,
      configGlobal,
      opencodeProject,
      extra,
    ])
    expect(found.map((file) => file.location)).not.toContain(outside)
    expect(found.map((file) => file.location)).not.toContain(hiddenInConfig)
    expect(found.find((file) => file.location === claudeGlobal)!.external).toBe(true)
    expect(found.find((file) => file.location === opencodeProject)).toEqual({
      location: opencodeProject,
      text: "---\nname: f\n---\nbody\n",
      files: [join(repo, ".opencode", "skills", "f", "notes.md"), join(repo, ".opencode", "skills", "f", "scripts", "run.sh")],
      external: false,
    })
  })

  test("OPENCODE_DISABLE_CLAUDE_CODE_SKILLS leaves .claude out; OPENCODE_DISABLE_EXTERNAL_SKILLS both", async () => {
    const noClaude = (await find({ OPENCODE_DISABLE_CLAUDE_CODE_SKILLS: "1" })).map((file) => file.location)
    expect(noClaude).toEqual([agentsGlobal, agentsNested, configGlobal, opencodeProject])
    const noExternal = (await find({ OPENCODE_DISABLE_EXTERNAL_SKILLS: "true" })).map((file) => file.location)
    expect(noExternal).toEqual([configGlobal, opencodeProject])
  })

  test("skills.urls: the index's skills are downloaded into upstream's cache folder, found there after skills.paths, and kept", async () => {
    const server = await startSkillIndexServer({
      "/index.json": skillIndex([
        { name: "remote", files: ["SKILL.md", "scripts/run.sh"] },
        { name: "no-skill-file", files: ["README.md"] },
        { name: "escape", files: ["SKILL.md", "../../outside.md"] },
        { name: "versioned", files: ["SKILL.md"], version: "1" },
      ]),
      "/remote/SKILL.md": "---\nname: remote\n---\nremote body\n",
      "/remote/scripts/run.sh": "echo remote\n",
      "/no-skill-file/README.md": "never fetched\n",
      "/escape/SKILL.md": "---\nname: escape\n---\n",
      "/versioned/SKILL.md": "---\nname: versioned\n---\nversion one\n",
    })
    const cache = join(root, "cache")
    try {
      const found = await find({ XDG_CACHE_HOME: cache, OPENCODE_DISABLE_EXTERNAL_SKILLS: "1" }, ["../../../extra"], [`${server.url}/`])
      const remote = join(cache, "opencode", "skills", "remote")
      const versioned = join(cache, "opencode", "skills", "versioned")
      expect(found.map((file) => file.location)).toEqual([configGlobal, opencodeProject, extra, join(remote, "SKILL.md"), join(versioned, "SKILL.md")])
      // Downloaded skills are not opencode's own folders' (upstream's v2 listing leaves them out).
      expect(found.find((file) => file.location === join(remote, "SKILL.md"))).toEqual({
        location: join(remote, "SKILL.md"),
        text: "---\nname: remote\n---\nremote body\n",
        files: [join(remote, "scripts", "run.sh")],
        external: true,
      })
      expect(readFileSync(join(versioned, ".opencode-version"), "utf8")).toBe("1")
      expect(existsSync(join(cache, "opencode", "skills", "no-skill-file"))).toBe(false)
      expect(existsSync(join(cache, "opencode", "skills", "escape"))).toBe(false)
      expect(server.requested).not.toContain("/no-skill-file/README.md")

      // Files already downloaded are not asked for again; a new version replaces the skill's folder.
      server.requested.length = 0
      server.files.set("/remote/SKILL.md", "---\nname: remote\n---\nchanged on the server\n")
      server.files.set("/index.json", skillIndex([{ name: "remote", files: ["SKILL.md", "scripts/run.sh"] }, { name: "versioned", files: ["SKILL.md"], version: "2" }]))
      server.files.set("/versioned/SKILL.md", "---\nname: versioned\n---\nversion two\n")
      const again = await find({ XDG_CACHE_HOME: cache, OPENCODE_DISABLE_EXTERNAL_SKILLS: "1" }, [], [server.url])
      expect(server.requested).toEqual(["/index.json", "/versioned/SKILL.md"])
      expect(again.find((file) => file.location === join(remote, "SKILL.md"))!.text).toContain("remote body")
      expect(again.find((file) => file.location === join(versioned, "SKILL.md"))!.text).toContain("version two")
      expect(readFileSync(join(versioned, ".opencode-version"), "utf8")).toBe("2")

      // An index that cannot be had adds nothing.
      server.files.delete("/index.json")
      expect((await find({ XDG_CACHE_HOME: cache, OPENCODE_DISABLE_EXTERNAL_SKILLS: "1" }, [], [server.url])).map((file) => file.location)).toEqual([configGlobal, opencodeProject])

      // One machine reuses a download for the listings and turns that follow it.
      server.files.set("/index.json", skillIndex([{ name: "remote", files: ["SKILL.md"] }]))
      server.requested.length = 0
      const machine = createSkillFileService({ env: { XDG_CONFIG_HOME: join(home, ".config"), XDG_CACHE_HOME: cache }, home })
      await Promise.all([machine.find(nested, [], [server.url]), machine.find(nested, [], [server.url])])
      expect((await machine.find(nested, [], [server.url])).map((file) => file.location)).toContain(join(remote, "SKILL.md"))
      expect(server.requested).toEqual(["/index.json"])
    } finally {
      await server.close()
    }
  })
})
