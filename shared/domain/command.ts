import type { Ports } from "../ports.ts"
import type { Command, CommandV2Info } from "../schema/app-info.ts"
import { defined, parseModel, readConfigSection } from "./agent.ts"
import { INIT_TEMPLATE, REVIEW_TEMPLATE, WORKTREE_PLACEHOLDER } from "./command-templates.ts"
import { Projects } from "./project.ts"
import { Mcp } from "./mcp.ts"
import { NotFoundError } from "../error.ts"
import { cleanMcpName, type McpPrompt } from "../mcp/schema.ts"
import type { Skill } from "../schema/skill.ts"
import { Path } from "../path.ts"
import { BUILT_IN_LOCATION, Skills } from "./skill.ts"

/** `$1`, `$2`… then `$ARGUMENTS`, as upstream lists a template's argument hints. */
export function commandHints(template: string): string[] {
  const numbered = [...new Set(template.match(/\$\d+/g) ?? [])].sort()
  return template.includes("$ARGUMENTS") ? [...numbered, "$ARGUMENTS"] : numbered
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)
const str = (value: unknown) => (typeof value === "string" ? value : undefined)

export namespace Commands {
  /**
   * Upstream's built-ins (`init`, `review`), then the config's `command` section (its JSON entries and the
   * markdown command files), which may replace a built-in; entries without a string template are skipped; then
   * the connected MCP servers' prompts; then every skill whose name no command has taken.
   */
  export async function list(ports: Ports, directory: string): Promise<Command[]> {
    const [section, project] = await Promise.all([readConfigSection(ports, directory, "command"), Projects.current(ports, directory)])
    const commands = new Map<string, Command>([
      ["init", { name: "init", description: "guided AGENTS.md setup", source: "command", template: INIT_TEMPLATE.replace(WORKTREE_PLACEHOLDER, project.worktree), hints: commandHints(INIT_TEMPLATE) }],
      [
        "review",
        { name: "review", description: "review changes [commit|branch|pr], defaults to uncommitted", source: "command", template: REVIEW_TEMPLATE, subtask: true, hints: commandHints(REVIEW_TEMPLATE) },
      ],
    ])
    for (const [name, entry] of Object.entries(section)) {
      if (!isObject(entry) || typeof entry.template !== "string") continue
      commands.set(
        name,
        defined({
          name,
          description: str(entry.description),
          agent: str(entry.agent),
          model: str(entry.model),
          source: "command" as const,
          template: entry.template,
          subtask: typeof entry.subtask === "boolean" ? entry.subtask : undefined,
          hints: commandHints(entry.template),
        }),
      )
    }
    for (const prompt of await Mcp.prompts(ports, directory)) {
      const name = mcpCommandName(prompt)
      // The template is the server's, fetched when the command runs (upstream's is a promise, listed as `{}`).
      commands.set(name, defined({ name, description: prompt.description, source: "mcp" as const, template: "", hints: (prompt.arguments ?? []).map((_, index) => `$${index + 1}`) }))
    }
    for (const skill of await skillsOf(ports, directory)) {
      if (commands.has(skill.name)) continue
      commands.set(skill.name, defined({ name: skill.name, description: skill.description, source: "skill" as const, template: skillTemplate(skill), hints: [] }))
    }
    return [...commands.values()]
  }

  /** `/api/command`: upstream's v2 listing has no skills. */
  export async function listV2(ports: Ports, directory: string): Promise<CommandV2Info[]> {
    return (await list(ports, directory)).filter((command) => command.source !== "skill").map(toV2)
  }

  /** The skills, or none (logged) when the machine could not list them: the commands are listed all the same. */
  async function skillsOf(ports: Ports, directory: string): Promise<Skill[]> {
    return Skills.list(ports, directory).catch((error) => {
      ports.log.warn("skills could not be listed", { directory, error: error instanceof Error ? error.message : String(error) })
      return []
    })
  }

  /** A skill as a command's template, as upstream's: its content, then where its folder is (not for the built-in one). */
  function skillTemplate(skill: Skill): string {
    if (skill.location === BUILT_IN_LOCATION) return skill.content
    return [
      skill.content,
      "",
      `Base directory for this skill: ${Path.dirname(skill.location)}`,
      "Relative paths in this skill (e.g., scripts/, references/) are relative to this base directory.",
    ].join("\n")
  }

  /** The command's template: an MCP server's prompt is asked for it, with `$1`, `$2`… for its arguments. */
  export async function template(ports: Ports, directory: string, command: Command): Promise<string> {
    if (command.source !== "mcp") return command.template
    const prompt = (await Mcp.prompts(ports, directory)).find((candidate) => mcpCommandName(candidate) === command.name)
    if (!prompt) throw new NotFoundError({ message: `Command not found: "${command.name}"` })
    return Mcp.promptTemplate(ports, directory, prompt)
  }

  /** An MCP server's prompt as upstream names its command: `<server>:<prompt>`. */
  function mcpCommandName(prompt: McpPrompt): string {
    return `${cleanMcpName(prompt.server)}:${cleanMcpName(prompt.name)}`
  }

  /** A command in `/api/command`'s v2 shape: the model as a reference, no hints or source. */
  function toV2(command: Command): CommandV2Info {
    const model = parseModel(command.model)
    return defined({
      name: command.name,
      template: command.template,
      description: command.description,
      agent: command.agent,
      model: model && { id: model.modelID, providerID: model.providerID },
      subtask: command.subtask,
    })
  }
}
