import type { Ports } from "../ports.ts"
import type { Agent } from "../schema/app-info.ts"
import type { Skill, SkillFile, SkillV2Info } from "../schema/skill.ts"
import type { ToolResult } from "../tools.ts"
import { machineUnavailable, requireMachine } from "../machine.ts"
import { markdownContent, parseMarkdown } from "../config/markdown.ts"
import { Path } from "../path.ts"
import { CUSTOMIZE_OPENCODE_SKILL } from "../skill/customize-opencode.ts"
import { Configs } from "./config.ts"
import { ToolPermission } from "./tool-permission.ts"

/** Where upstream's built-in skill says it is. */
export const BUILT_IN_LOCATION = "<built-in>"

/** A skill as listed, with what only the machine knew: its folder's sampled files and whether it came from `.claude`/`.agents`. */
interface FoundSkill extends Skill {
  files: string[]
  external: boolean
}

const BUILT_IN: FoundSkill = {
  name: CUSTOMIZE_OPENCODE_SKILL.name,
  description: CUSTOMIZE_OPENCODE_SKILL.description,
  location: BUILT_IN_LOCATION,
  content: CUSTOMIZE_OPENCODE_SKILL.content,
  files: [],
  external: false,
}

/**
 * Upstream's skills: the built-in `customize-opencode`, then the SKILL.md files the machine finds (frontmatter
 * `name`, optional `description`; the body is the content). A later skill of the same name replaces an earlier
 * one, with a warning, as upstream. With no machine connected there are none: skills live on the machine.
 */
export namespace Skills {
  async function found(ports: Ports, directory: string): Promise<FoundSkill[]> {
    const machine = ports.machine
    if (!machine || !(await machine.connected().catch(() => false))) return []
    const { paths, urls } = await configuredSources(ports, directory)
    const files = await machine.skills.find(directory, paths, urls)
    const byName = new Map<string, FoundSkill>([[BUILT_IN.name, BUILT_IN]])
    for (const file of files) {
      const skill = parse(ports, file)
      if (!skill) continue
      const existing = byName.get(skill.name)
      if (existing) ports.log.warn("duplicate skill name", { name: skill.name, existing: existing.location, duplicate: skill.location })
      byName.set(skill.name, skill)
    }
    return [...byName.values()]
  }

  /** The config's `skills.paths` and `skills.urls` (whose skills the machine downloads). */
  async function configuredSources(ports: Ports, directory: string): Promise<{ paths: string[]; urls: string[] }> {
    const section = (await Configs.get(ports, directory)).skills
    const strings = (value: unknown) => (Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === "string") : [])
    return { paths: strings(section?.paths), urls: strings(section?.urls) }
  }

  /** A SKILL.md as a skill; one without a string `name` (or whose frontmatter does not parse) is skipped, as upstream. */
  function parse(ports: Ports, file: SkillFile): FoundSkill | undefined {
    try {
      const { options } = parseMarkdown(file.location, file.text)
      if (typeof options.name !== "string") return undefined
      if (options.description !== undefined && typeof options.description !== "string") return undefined
      return {
        name: options.name,
        ...(options.description !== undefined ? { description: options.description } : {}),
        location: file.location,
        content: markdownContent(file.text),
        files: file.files,
        external: file.external,
      }
    } catch (error) {
      ports.log.warn("failed to load skill", { skill: file.location, error: error instanceof Error ? error.message : String(error) })
      return undefined
    }
  }

  const listed = ({ name, description, location, content }: FoundSkill): Skill => ({ name, ...(description !== undefined ? { description } : {}), location, content })

  /** `GET /skill`: every skill of the directory. */
  export async function list(ports: Ports, directory: string): Promise<Skill[]> {
    return (await found(ports, directory)).map(listed)
  }

  /**
   * `GET /api/skill`: upstream's v2 listing reads the config folders and `skills.paths` only (not `.claude` or
   * `.agents`), and names its built-in skill by a path of its own.
   */
  export async function listV2(ports: Ports, directory: string): Promise<SkillV2Info[]> {
    return (await found(ports, directory))
      .filter((skill) => !skill.external)
      .map((skill) => (skill === BUILT_IN ? { ...listed(skill), ...CUSTOMIZE_OPENCODE_SKILL.v2 } : listed(skill)))
  }

  /** What the model is told of the skills (after the instructions, as upstream), unless the agent may not use the skill tool. */
  export async function guidance(ports: Ports, directory: string, agent: Agent): Promise<string | undefined> {
    if (ToolPermission.deniedOutright(agent.permission, "skill")) return undefined
    const skills = (await found(ports, directory).catch((error) => {
      ports.log.warn("skills could not be listed", { directory, error: error instanceof Error ? error.message : String(error) })
      return []
    }))
      .filter((skill) => ToolPermission.evaluate(agent.permission, "skill", skill.name) !== "deny" && skill.description !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name))
    const list = skills.length
      ? [
          "<available_skills>",
          ...skills.flatMap((skill) => [
            "  <skill>",
            `    <name>${skill.name}</name>`,
            `    <description>${skill.description}</description>`,
            `    <location>${escapeXml(skill.location)}</location>`,
            "  </skill>",
          ]),
          "</available_skills>",
        ].join("\n")
      : "No skills are currently available."
    return ["Skills provide specialized instructions and workflows for specific tasks.", "Use the skill tool to load a skill when a task matches its description.", list].join("\n")
  }

  /** The skill named, for the skill tool; upstream's error (with every name) when there is none. */
  export async function require(ports: Ports, directory: string, name: string): Promise<FoundSkill> {
    // Skills live on the machine: without one (or with its tunnel down) the call fails as machine tools do.
    if (!(await requireMachine(ports).connected().catch(() => false))) throw machineUnavailable()
    const skills = await found(ports, directory)
    const skill = skills.find((candidate) => candidate.name === name)
    if (skill) return skill
    const available = skills.map((candidate) => candidate.name).sort()
    throw new Error(`Skill "${name}" not found. Available skills: ${available.join(", ") || "none"}`)
  }

  /** The skill tool's result, as upstream's: the content in a `<skill_content>` block with its folder and sampled files. */
  export function loaded(skill: FoundSkill): ToolResult {
    const dir = Path.dirname(skill.location)
    return {
      title: `Loaded skill: ${skill.name}`,
      output: [
        `<skill_content name="${skill.name}">`,
        `# Skill: ${skill.name}`,
        "",
        skill.content.trim(),
        "",
        `Base directory for this skill: ${dir}`,
        "Relative paths in this skill (e.g., scripts/, reference/) are relative to this base directory.",
        "Note: file list is sampled.",
        "",
        "<skill_files>",
        skill.files.map((file) => `<file>${file}</file>`).join("\n"),
        "</skill_files>",
        "</skill_content>",
      ].join("\n"),
      metadata: { name: skill.name, dir },
    }
  }
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;")
}
