import type { Ports } from "../ports.ts"
import { BadRequestError } from "../error.ts"
import { requireMachine } from "../machine.ts"
import {
  isMachineToolID,
  isSessionToolID,
  parseToolArguments,
  type SessionToolID,
  type StandaloneToolID,
  type ToolArgs,
  type ToolID,
  type ToolResult,
} from "../tools.ts"
import { Questions } from "./questions.ts"
import { Sessions } from "./session.ts"
import { Todos } from "./todo.ts"
import { Subtasks } from "./subtask.ts"
import { ToolPermission } from "./tool-permission.ts"
import { WebFetch } from "./webfetch.ts"
import { Skills } from "./skill.ts"

/** Where a tool call happens: the directory, and the session (and message, call) it runs for, if any. */
export interface ToolContext {
  directory: string
  sessionID?: string
  /** The agent the call runs as (its permission rules apply); default: the config's default_agent, else build. */
  agent?: string
  messageID?: string
  callID?: string
  /** The caller went away: a question or permission request it waits on is withdrawn. */
  signal?: AbortSignal
}

type SessionContext = ToolContext & { sessionID: string }
type ServerTool<T extends ToolID, Context extends ToolContext> = (ports: Ports, context: Context, args: ToolArgs<T>) => Promise<ToolResult>

function todoResult(todos: ToolArgs<"todowrite">["todos"]): ToolResult {
  return {
    title: `${todos.filter((todo) => todo.status !== "completed").length} todos`,
    output: JSON.stringify(todos, null, 2),
    metadata: { todos },
  }
}

const SESSION_TOOLS: { [T in SessionToolID]: ServerTool<T, SessionContext> } = {
  async question(ports, context, args) {
    const tool = context.messageID && context.callID ? { messageID: context.messageID, callID: context.callID } : undefined
    const answers = await Questions.ask(
      ports,
      { directory: context.directory, sessionID: context.sessionID, questions: args.questions, tool },
      { signal: context.signal },
    )
    const pairs = args.questions.map((question, index) => `"${question.question}"="${(answers[index] ?? []).join(", ") || "Unanswered"}"`)
    return {
      title: `Asked ${args.questions.length} question${args.questions.length === 1 ? "" : "s"}`,
      output: `User has answered your questions: ${pairs.join(", ")}. You can now continue with the user's answers in mind.`,
      metadata: { answers },
    }
  },
  async todowrite(ports, context, args) {
    await Todos.update(ports, context.directory, context.sessionID, args.todos)
    return todoResult(args.todos)
  },
  async todoread(ports, context) {
    return todoResult(await Todos.get(ports, context.sessionID))
  },
  task: (ports, context, args) => Subtasks.run(ports, context, args),
}

const STANDALONE_TOOLS: { [T in StandaloneToolID]: ServerTool<T, ToolContext> } = {
  webfetch: (ports, context, args) => WebFetch.run(ports, args, context.signal),
  skill: async (ports, context, args) => Skills.loaded(await Skills.require(ports, context.directory, args.name)),
}

/**
 * Runs a built-in tool: machine tools on the machine, server tools here (the session tools only for a session). A
 * call made for a session goes through the agent's and session's permission rules first.
 */
export namespace Tools {
  export async function execute(ports: Ports, context: ToolContext, toolID: ToolID, input: unknown): Promise<ToolResult> {
    const args = parseToolArguments(toolID, input)
    if (context.sessionID === undefined) {
      if (isSessionToolID(toolID)) throw new BadRequestError({ message: `The ${toolID} tool runs for a session: give ?sessionID=`, kind: "Query" })
      return run(ports, context, toolID, args)
    }
    // A call for a session runs where the session lives, whatever directory the request names.
    const session = await Sessions.get(ports, context.sessionID)
    const call = { ...context, directory: session.directory, sessionID: session.id }
    await ToolPermission.check(ports, { ...call, session, toolID, args })
    if (isSessionToolID(toolID)) return (SESSION_TOOLS[toolID] as ServerTool<SessionToolID, SessionContext>)(ports, call, args as never)
    return run(ports, call, toolID, args)
  }

  /** A tool that needs no session, for a session or not. */
  function run(ports: Ports, context: ToolContext, toolID: Exclude<ToolID, SessionToolID>, args: ToolArgs<ToolID>): Promise<ToolResult> {
    if (isMachineToolID(toolID)) return requireMachine(ports).tools.execute(context.directory, toolID, args)
    return (STANDALONE_TOOLS[toolID] as ServerTool<StandaloneToolID, ToolContext>)(ports, context, args as never)
  }
}
