import { NotFoundError } from "../error.ts"
import { connectedMachine } from "../machine.ts"
import { Path } from "../path.ts"
import type { Ports } from "../ports.ts"
import { parseModelRef, type ModelRef } from "../provider/provider.ts"
import type { Agent, Command } from "../schema/app-info.ts"
import type { CommandInput } from "../schema/command.ts"
import type { Config } from "../schema/config.ts"
import type { MessageWithParts, PartInput } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import { Agents } from "./agent.ts"
import { Bus } from "./bus.ts"
import { Commands } from "./command.ts"
import { CommandTemplate } from "./command-template.ts"
import { Configs } from "./config.ts"
import { Projects } from "./project.ts"
import { Prompt } from "./prompt.ts"
import { Sessions } from "./session.ts"

/**
 * A command run as a prompt, as upstream runs it: the template filled with the arguments, each `` !`cmd` ``
 * replaced by that command's standard output on the machine (in the session's directory), each `@path` that names
 * a file or folder of the worktree attached as a file part (else, naming an agent, an agent part). The command's
 * agent and model win over the request's; a subtask command (or one whose agent is a subagent) is sent as a
 * `subtask` part.
 */
export namespace CommandRun {
  export async function run(ports: Ports, sessionID: string, input: CommandInput): Promise<MessageWithParts> {
    const session = await Sessions.get(ports, sessionID)
    const directory = session.directory
    const config = await Configs.get(ports, directory)
    const commands = await Commands.list(ports, directory)
    const command = commands.find((candidate) => candidate.name === input.command)
    if (!command) {
      const names = commands.map((candidate) => candidate.name).join(", ")
      throw new NotFoundError({ message: `Command not found: "${input.command}". Available commands: ${names}` })
    }
    const agent = Agents.pick(config, command.agent ?? input.agent)
    // checked before anything runs on the machine
    const model = await Prompt.chooseModel(ports, session, config, commandModel(command, agent, input), true)
    const text = (await runShellSubstitutions(ports, directory, CommandTemplate.fill(await Commands.template(ports, directory, command), input.arguments))).trim()

    const subtask = (agent.mode === "subagent" && command.subtask !== false) || command.subtask === true
    const accepted = subtask
      ? await Prompt.accept(ports, sessionID, {
          ...(input.messageID !== undefined ? { messageID: input.messageID } : {}),
          ...(input.agent !== undefined ? { agent: input.agent } : {}),
          ...(input.model !== undefined ? { model: parseModelRef(input.model) } : {}),
          ...(input.variant !== undefined ? { variant: input.variant } : {}),
          parts: [{ type: "subtask", agent: agent.name, description: command.description ?? "", command: input.command, model, prompt: text }],
        })
      : await Prompt.accept(ports, sessionID, {
          ...(input.messageID !== undefined ? { messageID: input.messageID } : {}),
          agent: agent.name,
          model,
          ...(input.variant !== undefined ? { variant: input.variant } : {}),
          parts: [...(await promptParts(ports, session, config, text, input.parts ?? [])), ...(input.parts ?? [])],
        })
    const reply = await Prompt.reply(ports, accepted)
    await Bus.publish(ports, directory, "command.executed", { name: input.command, sessionID, arguments: input.arguments, messageID: reply.info.id })
    return reply
  }

  /** The command's model, else its agent's, else the request's (upstream's order); undefined leaves it to the session. */
  function commandModel(command: Command, agent: Agent, input: CommandInput): ModelRef | undefined {
    if (command.model) return parseModelRef(command.model)
    if (command.agent && agent.model) return agent.model
    return parseModelRef(input.model)
  }

  /**
   * Runs the text's `` !`cmd` `` substitutions on the machine, all at once, and puts their standard output in their
   * place (upstream keeps stderr out, and a failing command's output counts all the same).
   */
  async function runShellSubstitutions(ports: Ports, directory: string, text: string): Promise<string> {
    const commands = CommandTemplate.shellCommands(text)
    if (commands.length === 0) return text
    const machine = await connectedMachine(ports)
    const run = async (command: string) => (await machine.tools.execute(directory, "bash", { command: `exec 2>/dev/null\n${command}` })).output
    const outputs = await Promise.all(commands.map(run))
    return CommandTemplate.withShellOutputs(text, outputs)
  }

  /**
   * The text, then a file part for each `@path` naming something in the worktree (a folder as
   * `application/x-directory`), else an agent part for an agent of that name; files the request attaches itself
   * are not repeated. Paths outside the session's directory, and `~/` ones, stay text only.
   */
  async function promptParts(ports: Ports, session: Session, config: Config, text: string, attached: { url: string }[]): Promise<PartInput[]> {
    const parts: PartInput[] = [{ type: "text", text }]
    const references = CommandTemplate.fileReferences(text)
    if (references.length === 0) return parts
    // Outside git upstream's worktree is "/", which would make every reference absolute: those read from the directory.
    const project = await Projects.current(ports, session.directory)
    const base = project.worktree === "/" ? session.directory : project.worktree
    const machine = ports.machine && (await ports.machine.connected()) ? ports.machine : undefined
    const listings = new Map<string, Promise<{ name: string; type: string }[]>>()
    const entryOf = async (absolute: string) => {
      const relative = machine && Path.relativeInside(session.directory, absolute)
      if (relative === undefined || relative === "") return undefined
      const slash = relative.lastIndexOf("/")
      const parent = slash < 0 ? "" : relative.slice(0, slash)
      if (!listings.has(parent)) listings.set(parent, machine!.files.list(session.directory, parent).catch(() => []))
      return (await listings.get(parent)!).find((entry) => entry.name === relative.slice(slash + 1))
    }
    const attachedUrls = new Set(attached.map((part) => part.url))
    for (const reference of references) {
      const absolute = reference.startsWith("~/") ? undefined : Path.normalize(Path.isAbsolute(reference) ? reference : `${base}/${reference}`)
      const entry = absolute && (await entryOf(absolute))
      if (absolute && entry) {
        const url = `file://${absolute}`
        if (!attachedUrls.has(url)) parts.push({ type: "file", url, filename: reference, mime: entry.type === "directory" ? "application/x-directory" : "text/plain" })
        continue
      }
      const agent = agentNamed(config, reference)
      if (agent) parts.push({ type: "agent", name: agent.name })
    }
    return parts
  }

  function agentNamed(config: Config, name: string): Agent | undefined {
    try {
      const agent = Agents.pick(config, name)
      return agent.name === name ? agent : undefined
    } catch {
      return undefined
    }
  }
}
