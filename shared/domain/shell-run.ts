import { Identifier } from "../id.ts"
import { connectedMachine } from "../machine.ts"
import type { Ports } from "../ports.ts"
import type { ShellInput } from "../schema/command.ts"
import type { AssistantMessage, MessageWithParts, Part, UserMessage } from "../schema/message.ts"
import { Agents } from "./agent.ts"
import { Bus } from "./bus.ts"
import { Configs } from "./config.ts"
import { Projects } from "./project.ts"
import { Prompt } from "./prompt.ts"
import { assertSessionIdle } from "./session-busy.ts"
import { Sessions } from "./session.ts"
import { newAssistantMessage } from "../turn/assistant-message.ts"
import { newUserMessage } from "../turn/user-message.ts"

type ToolPart = Extract<Part, { type: "tool" }>

/** The user message upstream records before a shell command's result, marking it as the user's own tool call. */
export const SHELL_USER_TEXT = "The following tool was executed by the user"

/** What upstream appends to the output of a command the user aborted (the part still completes). */
export const ABORTED_NOTE = "\n\n<metadata>\nUser aborted the command\n</metadata>"

/**
 * A shell command the user runs in a session, as upstream records it: a user message with one synthetic text part,
 * then an assistant message (no model call: no tokens, no finish) with a completed `bash` tool part whose
 * `metadata.output` is the output. The command runs on the machine in the session's directory, in the user's
 * shell (machine.shell, under the session's id); the session is busy meanwhile, a busy session refuses it (409),
 * and aborting the session stops the command (Prompt.abort).
 */
export namespace ShellRun {
  export async function run(ports: Ports, sessionID: string, input: ShellInput): Promise<MessageWithParts> {
    const session = await Sessions.get(ports, sessionID)
    await assertSessionIdle(ports, session)
    const machine = await connectedMachine(ports)
    const directory = session.directory
    const config = await Configs.get(ports, directory)
    const agent = Agents.pick(config, input.agent)
    const [model, project] = await Promise.all([Prompt.chooseModel(ports, session, config, input.model ?? agent.model, false), Projects.current(ports, directory)])

    await Sessions.setStatus(ports, session, { type: "busy" })
    try {
      const created = ports.clock.now()
      const user = newUserMessage(sessionID, created, { agent: agent.name, model }, input.messageID)
      const text: Part = { id: Identifier.ascending("part", created), sessionID, messageID: user.id, type: "text", text: SHELL_USER_TEXT, synthetic: true }
      await ports.sessions.putMessage(user, [text])
      await Bus.publish(ports, directory, "message.updated", { sessionID, info: user })
      await Bus.publish(ports, directory, "message.part.updated", { sessionID, part: text, time: created })

      const started = ports.clock.now()
      const assistant = newAssistantMessage(
        { sessionID, parentID: user.id, model, agent: agent.name, directory, worktree: project.worktree },
        started,
      )
      const running: ToolPart = {
        id: Identifier.ascending("part", started),
        sessionID,
        messageID: assistant.id,
        type: "tool",
        tool: "bash",
        callID: crypto.randomUUID(),
        state: { status: "running", input: { command: input.command }, time: { start: started } },
      }
      await ports.sessions.putMessage(assistant, [running])
      await Bus.publish(ports, directory, "message.updated", { sessionID, info: assistant })
      await Bus.publish(ports, directory, "message.part.updated", { sessionID, part: running, time: started })

      const state = await machine.shell.run(directory, { runID: sessionID, command: input.command, ...(config.shell ? { shell: config.shell } : {}) }).then(
        (result): ToolPart["state"] => {
          const output = result.aborted ? `${result.output}${ABORTED_NOTE}` : result.output
          return { status: "completed", input: { command: input.command }, output, title: "", metadata: { output }, time: { start: started, end: ports.clock.now() } }
        },
        (error): ToolPart["state"] => ({
          status: "error",
          input: { command: input.command },
          error: error instanceof Error ? error.message : String(error),
          time: { start: started, end: ports.clock.now() },
        }),
      )
      const completed: AssistantMessage = { ...assistant, time: { ...assistant.time, completed: ports.clock.now() } }
      const part: ToolPart = { ...running, state }
      await ports.sessions.putMessage(completed, [part])
      await Bus.publish(ports, directory, "message.updated", { sessionID, info: completed })
      await Bus.publish(ports, directory, "message.part.updated", { sessionID, part, time: ports.clock.now() })
      return { info: completed, parts: [part] }
    } finally {
      await Sessions.setStatus(ports, session, { type: "idle" })
    }
  }
}
