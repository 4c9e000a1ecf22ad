import type { Ports } from "../ports.ts"
import type { Project } from "../schema/project.ts"
import type { Agent } from "../schema/app-info.ts"
import type { Model } from "../schema/config.ts"
import { Skills } from "../domain/skill.ts"

/** What every agent is told when its own config gives no prompt. */
const BASE_PROMPT = [
  "You are OpenCode, a coding agent working in the user's project on their machine.",
  "Use the tools to read, search, edit and run what the task needs instead of guessing; read a file before you change it.",
  "Keep answers short and concrete. Say what you changed and what is left; do not invent results you did not see.",
  "Paths in tool calls are relative to the working directory unless absolute.",
].join("\n")

/**
 * The system prompt of a step: the agent's prompt, the environment, then the instructions the machine finds
 * (AGENTS.md, else CLAUDE.md, from the worktree root to the directory; the user's global one; the config's
 * `instructions` files), the skills the agent may load (as upstream), then the turn's own notes.
 */
export async function systemPrompt(
  ports: Ports,
  input: { directory: string; project: Project; agent: Agent; model: Model; instructions: string[]; extra?: string },
): Promise<string[]> {
  const { project } = input
  const parts = [input.agent.prompt ?? BASE_PROMPT, environment(ports, input.directory, project.worktree, project.vcs === "git", input.model)]
  parts.push(...(await instructions(ports, input.directory, input.instructions)))
  const skills = await Skills.guidance(ports, input.directory, input.agent)
  if (skills) parts.push(skills)
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

async function instructions(ports: Ports, directory: string, extra: string[]): Promise<string[]> {
  const machine = ports.machine
  if (!machine || !(await machine.connected().catch(() => false))) return []
  const files = await machine.config.instructions(directory, extra).catch((error) => {
    ports.log.warn("instructions could not be read", { directory, error: error instanceof Error ? error.message : String(error) })
    return []
  })
  return files.map((file) => `Instructions from: ${file.path}\n${file.text}`)
}
