import { streamText, type LanguageModel, type ModelMessage, type ToolSet } from "ai"
import { NamedError, PermissionRejectedError, QuestionRejectedError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { Agent } from "../schema/app-info.ts"
import type { Model } from "../schema/config.ts"
import type { MessageError, Part } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import { Tools } from "../domain/tool.ts"
import { ToolPermission } from "../domain/tool-permission.ts"
import { isToolID, type ToolID } from "../tools.ts"
import { aborted, messageError } from "./errors.ts"
import type { StepParts } from "./parts.ts"
import { costOf, tokensOf, type Tokens } from "./usage.ts"
import { McpTools, type McpToolEntry } from "./mcp-tools.ts"
import { Identifier } from "../id.ts"

type TextPart = Extract<Part, { type: "text" }>
type ReasoningPart = Extract<Part, { type: "reasoning" }>
type ToolPart = Extract<Part, { type: "tool" }>

export interface StepInput {
  ports: Ports
  session: Session
  agent: Agent
  model: Model
  language: LanguageModel
  system: string[]
  messages: ModelMessage[]
  tools: ToolSet
  /** The MCP servers' tools among `tools`, by name. */
  mcp: Map<string, McpToolEntry>
  parts: StepParts
  signal: AbortSignal
  /** Signatures (tool and input) of the turn's calls so far, for the doom-loop check; the step appends its own. */
  calls: string[]
  /** The worktree's snapshot before the step, recorded on its step-start (none without a machine). */
  snapshot?: string
}

export interface StepOutcome {
  /** The AI SDK's finish reason ("stop", "tool-calls", "length"...), when the step finished. */
  finish?: string
  error?: MessageError
  /** Whether the step produced anything beyond its step-start (a retry would repeat it). */
  produced: boolean
  toolCalls: number
  /** The user rejected a permission request or dismissed a question: the turn ends, as upstream. */
  rejected: boolean
  tokens: Tokens
  cost: number
}

/**
 * One model call: streams text and reasoning into parts (deltas published as they come), runs each tool call as
 * soon as it arrives (pending → running → completed | error), and after every call has ended answers the step's
 * finish, usage and cost (the turn records them with `step-finish`). An abort ends the stream at once; what was streamed stays, and tools still
 * running end with an error.
 */
export async function runStep(input: StepInput): Promise<StepOutcome> {
  const { ports, parts, signal } = input
  const now = () => ports.clock.now()
  // The model is called while step-start is stored; it is announced before anything the model sends.
  const started = parts.list().some((part) => part.type === "step-start") ? Promise.resolve() : parts.add("step-start", input.snapshot ? { snapshot: input.snapshot } : {}).then(() => {})
  const open = new Map<string, TextPart | ReasoningPart>()
  const toolParts = new Map<string, ToolPart>()
  const running: Promise<void>[] = []
  let rejected = false
  let finish: string | undefined
  let failure: unknown
  let usage: Parameters<typeof tokensOf>[0]

  const closeOpen = async () => {
    for (const part of open.values()) {
      part.time = { start: part.time?.start ?? now(), end: now() }
      await parts.save(part)
    }
    open.clear()
  }

  const pending = async (callID: string, tool: string) => {
    const part = await parts.add("tool", { callID, tool, state: { status: "pending", input: {}, raw: "" } })
    toolParts.set(callID, part)
    return part
  }

  const execute = async (part: ToolPart, args: Record<string, unknown>) => {
    const start = now()
    part.state = { status: "running", input: args, time: { start } }
    await parts.save(part)
    const context = { directory: input.session.directory, sessionID: input.session.id, agent: input.agent.name, messageID: part.messageID, callID: part.callID, signal }
    try {
      const mcp = input.mcp.get(part.tool)
      if (!isToolID(part.tool) && !mcp) throw new Error(`Unknown tool: ${part.tool}. The tools are: ${Object.keys(input.tools).join(", ")}`)
      const signature = `${part.tool}\u0000${JSON.stringify(args)}`
      const repeats = input.calls.length >= 2 && input.calls.slice(-2).every((call) => call === signature)
      input.calls.push(signature)
      if (repeats) await ToolPermission.checkRepeat(ports, { ...context, session: input.session, agent: input.agent, toolID: part.tool, args })
      const running = mcp
        ? McpTools.execute(ports, { ...context, session: input.session }, part.tool, mcp, args)
        : Tools.execute(ports, context, part.tool as ToolID, args)
      const result = await untilAborted(running, signal)
      const attachments = result.attachments?.map((file) => ({ ...file, id: Identifier.ascending("part", now()), sessionID: part.sessionID, messageID: part.messageID }))
      part.state = {
        status: "completed",
        input: args,
        output: result.output,
        title: result.title,
        metadata: result.metadata,
        time: { start, end: now() },
        ...(attachments ? { attachments } : {}),
      }
    } catch (error) {
      if (error instanceof PermissionRejectedError || error instanceof QuestionRejectedError) rejected = true
      part.state = { status: "error", input: args, error: toolError(error, signal), time: { start, end: now() } }
    }
    await parts.save(part)
  }

  const stream = streamText({
    model: input.language,
    system: input.system.join("\n\n"),
    messages: input.messages,
    tools: input.tools,
    abortSignal: signal,
    maxRetries: 0,
    ...(input.agent.temperature !== undefined ? { temperature: input.agent.temperature } : {}),
    ...(input.agent.topP !== undefined ? { topP: input.agent.topP } : {}),
    ...(input.model.limit.output > 0 ? { maxOutputTokens: Math.min(input.model.limit.output, 32_000) } : {}),
  })
  try {
    await started
    for await (const event of stream.fullStream) {
      switch (event.type) {
        case "text-start":
          open.set(event.id, await parts.add("text", { text: "", time: { start: now() } }))
          break
        case "reasoning-start":
          open.set(event.id, await parts.add("reasoning", { text: "", time: { start: now() } }))
          break
        case "text-delta":
        case "reasoning-delta": {
          const part = open.get(event.id)
          if (part && event.text) await parts.append(part, event.text)
          break
        }
        case "text-end":
        case "reasoning-end": {
          const part = open.get(event.id)
          if (!part) break
          open.delete(event.id)
          part.time = { start: part.time?.start ?? now(), end: now() }
          await parts.save(part)
          break
        }
        case "tool-input-start":
          await pending(event.id, event.toolName)
          break
        case "tool-call": {
          const part = toolParts.get(event.toolCallId) ?? (await pending(event.toolCallId, event.toolName))
          running.push(execute(part, (event.input ?? {}) as Record<string, unknown>))
          break
        }
        case "tool-error": {
          // The model's call could not be parsed or names no tool: the model sees why.
          const part = toolParts.get(event.toolCallId) ?? (await pending(event.toolCallId, event.toolName))
          if (part.state.status !== "pending") break
          const at = now()
          part.state = { status: "error", input: (event.input ?? {}) as Record<string, unknown>, error: toolError(event.error, signal), time: { start: at, end: at } }
          await parts.save(part)
          break
        }
        case "finish-step":
          usage = event.usage
          finish = event.finishReason
          break
        case "error":
          throw event.error
      }
    }
  } catch (error) {
    failure = error
  }
  await closeOpen()
  await Promise.all(running)
  const produced = parts.list().some((part) => part.type !== "step-start")
  const tokens = tokensOf(usage)
  const cost = costOf(tokens, input.model)
  const toolCalls = toolParts.size
  if (signal.aborted) return { error: aborted(), produced, toolCalls, rejected, tokens, cost }
  if (failure !== undefined || finish === undefined) {
    return { error: messageError(failure ?? new Error("The model's stream ended without finishing"), input.model.providerID), produced, toolCalls, rejected, tokens, cost }
  }
  return { finish, produced, toolCalls, rejected, tokens, cost }
}

function toolError(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return "The tool call was aborted"
  if (error instanceof NamedError) return `${error.name}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

/** The call's result, or a rejection as soon as the turn is aborted (a command on the machine may still finish). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason)
    signal.addEventListener("abort", stop, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop))
  })
}
