import { BadRequestError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { ToolArgs, ToolResult } from "../tools.ts"
import { Agents } from "./agent.ts"
import { Prompt } from "./prompt.ts"
import { Sessions } from "./session.ts"

/**
 * The `task` tool: a subagent works on a self-contained task in a child session (`parentID`), with the model of
 * the call that asked for it, and its final text is the tool's output. Aborting the parent's turn aborts it.
 */
export namespace Subtasks {
  export async function run(
    ports: Ports,
    /** `anyAgent`: a primary agent may take the task too (a subtask command's, as upstream lets it). */
    context: { directory: string; sessionID: string; messageID?: string; signal?: AbortSignal; anyAgent?: boolean },
    args: ToolArgs<"task">,
  ): Promise<ToolResult> {
    const parent = await Sessions.get(ports, context.sessionID)
    const agent = await Agents.resolve(ports, parent.directory, args.subagent_type)
    if (agent.mode === "primary" && !context.anyAgent) {
      throw new BadRequestError({ message: `${agent.name} is a primary agent, not a subagent: use a subagent such as general`, kind: "Body" })
    }
    const asking = context.messageID ? await ports.sessions.message(parent.id, context.messageID) : undefined
    const model = asking?.info.role === "assistant" ? { providerID: asking.info.providerID, modelID: asking.info.modelID } : undefined
    const child = await Sessions.create(ports, parent.directory, { parentID: parent.id, title: `${args.description} (@${agent.name} subagent)` })
    const accepted = await Prompt.accept(ports, child.id, {
      agent: agent.name,
      ...(model && !agent.model ? { model } : {}),
      parts: [{ type: "text", text: args.prompt }],
    })
    const stop = () => void Prompt.abort(ports, child.id).catch(() => {})
    context.signal?.addEventListener("abort", stop, { once: true })
    try {
      const reply = await Prompt.reply(ports, accepted)
      const text = reply.parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n").trim()
      const error = reply.info.role === "assistant" ? reply.info.error : undefined
      if (error) throw new Error(`The subagent failed: ${error.name}: ${(error.data as { message?: string }).message ?? ""}`)
      return {
        title: args.description,
        output: `task_id: ${child.id}\n\n<task_result>\n${text}\n</task_result>`,
        metadata: { sessionId: child.id, agent: agent.name },
      }
    } finally {
      context.signal?.removeEventListener("abort", stop)
    }
  }
}
