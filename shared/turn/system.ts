import type { Ports } from "../ports.ts"
import { Path } from "../path.ts"
import { Projects } from "../domain/project.ts"
import type { Agent } from "../schema/app-info.ts"
import type { Model } from "../schema/config.ts"

/** What every agent is told when its own config gives no prompt. */
const BASE_PROMPT = [
  "You are OpenCode, a coding agent working in the user's project on their machine.",
  "Use the tools to read, search, edit and run what the task needs instead of guessing; read a file before you change it.",
  "Keep answers short and concrete. Say what you changed and what is left; do not invent results you did not see.",
  "Paths in tool calls are relative to the working directory unless absolute.",
].join("\n")

const INSTRUCTION_FILES = ["AGENTS.md", "CLAUDE.md"]

/**
 * The system prompt of a step: the agent's prompt, the environment, then the project's instructions (AGENTS.md,
 * else CLAUDE.md, in each directory from the working one up to the worktree root), read through the machine.
 */
export async function systemPrompt(ports: Ports, input: { directory: string; agent: Agent; model: Model; extra?: string }): Promise<string[]> {
  const project = await Projects.current(ports, input.directory)
  const parts = [input.agent.prompt ?? BASE_PROMPT, environment(ports, input.directory, project.worktree, project.vcs === "git", input.model)]
  parts.push(...(await instructions(ports, input.directory, project.worktree)))
  if (input.extra) parts.push(input.extra)
  return parts
}

function environment(ports: Ports, directory: string, worktree: string, git: boolean, model: Model): string {
  return [
    `You are powered by the model ${model.name} (${model.providerID}/${model.id}).`,
    "<env>",
    `  Working directory: ${directory}`,
    `  Worktree root: ${worktree}`,
    `  Is directory a git repo: ${git ? "yes" : "no"}`,
    `  Platform: ${ports.config.platform}`,
    `  Today's date: ${new Date(ports.clock.now()).toDateString()}`,
    "</env>",
  ].join("\n")
}

/** The directories from `directory` up to `worktree` (just `directory` when it is not inside it). */
function upToRoot(directory: string, worktree: string): string[] {
  const relative = Path.relativeInside(worktree, directory)
  if (relative === undefined || worktree === "/") return [directory]
  const segments = relative ? relative.split("/") : []
  const out: string[] = []
  for (let depth = segments.length; depth >= 0; depth--) out.push(segments.slice(0, depth).join("/"))
  return out.map((path) => (path ? `${worktree}/${path}` : worktree))
}

async function instructions(ports: Ports, directory: string, worktree: string): Promise<string[]> {
  const machine = ports.machine
  if (!machine || !(await machine.connected().catch(() => false))) return []
  const found: string[] = []
  for (const folder of upToRoot(directory, worktree)) {
    for (const name of INSTRUCTION_FILES) {
      const text = await machine.files.read(folder, name).then(
        (file) => (file.type === "text" && file.content.trim() ? file.content : undefined),
        () => undefined,
      )
      if (text === undefined) continue
      found.push(`Instructions from: ${folder}/${name}\n${text}`)
      break
    }
  }
  return found
}
