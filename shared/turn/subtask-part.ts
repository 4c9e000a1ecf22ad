import { Bus } from "../domain/bus.ts"
import { Projects } from "../domain/project.ts"
import { Subtasks } from "../domain/subtask.ts"
import { Identifier } from "../id.ts"
import type { Ports } from "../ports.ts"
import type { AssistantMessage, MessageWithParts, Part, UserMessage } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import { newAssistantMessage } from "./assistant-message.ts"
import { newUserMessage } from "./user-message.ts"

type SubtaskPart = Extract<Part, { type: "subtask" }>
type ToolPart = Extract<Part, { type: "tool" }>

/** What upstream asks the model after a command's subtask, so the turn goes on from the task's result. */
const CONTINUE_AFTER_TASK = "Summarize the task tool output above and continue with your task."

/** The prompt's subtask part (a subtask command's), which a turn runs before asking the model anything. */
export function subtaskOf(user: MessageWithParts): SubtaskPart | undefined {
  return user.parts.find((part): part is SubtaskPart => part.type === "subtask")
}

/**
 * Runs a prompt's subtask as upstream does: an assistant message with a `task` tool part whose subagent (any agent,
 * primary ones too) works in a child session. A command's subtask then adds a synthetic user message asking the
 * model to go on from the result, which the loop answers as a new turn (undefined here); any other subtask's
 * message is the reply.
 */
export async function runSubtaskPart(ports: Ports, session: Session, user: MessageWithParts, task: SubtaskPart, signal: AbortSignal): Promise<MessageWithParts | undefined> {
  const directory = session.directory
  const asked = user.info as UserMessage
  const model = task.model ?? asked.model
  const now = ports.clock.now()
  const project = await Projects.current(ports, directory)
  const assistant = newAssistantMessage(
    {
      sessionID: session.id,
      parentID: asked.id,
      model,
      agent: task.agent,
      directory,
      worktree: project.worktree,
      ...(asked.model.variant !== undefined ? { variant: asked.model.variant } : {}),
    },
    now,
  )
  const input = { prompt: task.prompt, description: task.description, subagent_type: task.agent, ...(task.command !== undefined ? { command: task.command } : {}) }
  const running: ToolPart = {
    id: Identifier.ascending("part", now),
    sessionID: session.id,
    messageID: assistant.id,
    type: "tool",
    tool: "task",
    callID: crypto.randomUUID(),
    state: { status: "running", input, time: { start: now } },
  }
  await save(ports, directory, assistant, running)

  const state = await Subtasks.run(ports, { directory, sessionID: session.id, messageID: assistant.id, signal, anyAgent: true }, { description: task.description, prompt: task.prompt, subagent_type: task.agent }).then(
    (result): ToolPart["state"] => ({ status: "completed", input, output: result.output, title: result.title, metadata: result.metadata, time: { start: now, end: ports.clock.now() } }),
    (error): ToolPart["state"] => ({ status: "error", input, error: `Tool execution failed: ${error instanceof Error ? error.message : String(error)}`, time: { start: now, end: ports.clock.now() } }),
  )
  const finished: AssistantMessage = { ...assistant, finish: "tool-calls", time: { ...assistant.time, completed: ports.clock.now() } }
  const part: ToolPart = { ...running, state }
  await save(ports, directory, finished, part)
  if (task.command === undefined || signal.aborted) return { info: finished, parts: [part] }

  const later = ports.clock.now()
  const followUp = newUserMessage(session.id, later, asked)
  const text: Part = { id: Identifier.ascending("part", later), sessionID: session.id, messageID: followUp.id, type: "text", text: CONTINUE_AFTER_TASK, synthetic: true }
  await ports.sessions.putMessage(followUp, [text])
  await Bus.publish(ports, directory, "message.updated", { sessionID: session.id, info: followUp })
  await Bus.publish(ports, directory, "message.part.updated", { sessionID: session.id, part: text, time: later })
  return undefined
}

async function save(ports: Ports, directory: string, message: AssistantMessage, part: ToolPart): Promise<void> {
  await ports.sessions.putMessage(message, [part])
  await Bus.publish(ports, directory, "message.updated", { sessionID: message.sessionID, info: message })
  await Bus.publish(ports, directory, "message.part.updated", { sessionID: message.sessionID, part, time: ports.clock.now() })
}
