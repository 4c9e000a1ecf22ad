import type { Ports } from "../ports.ts"
import type { Command, CommandV2Info } from "../schema/app-info.ts"
import { defined, parseModel, readConfigSection } from "./agent.ts"
import { INIT_TEMPLATE, REVIEW_TEMPLATE, WORKTREE_PLACEHOLDER } from "./command-templates.ts"
import { Projects } from "./project.ts"

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
   * markdown command files), which may replace a built-in; entries without a string template are skipped.
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
    return [...commands.values()]
  }

  /** A command in `/api/command`'s v2 shape: the model as a reference, no hints or source. */
  export function toV2(command: Command): CommandV2Info {
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
