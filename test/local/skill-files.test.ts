import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, test } from "vitest"
import { createSkillFileService } from "../../local-agent/machine/skills.ts"

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

  const find = (env: Record<string, string> = {}, paths: string[] = []) =>
    createSkillFileService({ env: { XDG_CONFIG_HOME: join(home, ".config"), ...env }, home }).find(nested, paths)

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
})
