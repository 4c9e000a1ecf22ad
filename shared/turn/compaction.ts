import { Agents, parseModel } from "../domain/agent.ts"
import { Bus } from "../domain/bus.ts"
import { Configs } from "../domain/config.ts"
import { Projects } from "../domain/project.ts"
import { ContextOverflowError } from "../error.ts"
import { Identifier } from "../id.ts"
import type { Ports } from "../ports.ts"
import { Providers, type ModelRef } from "../provider/provider.ts"
import type { Config, Model } from "../schema/config.ts"
import type { AssistantMessage, MessageError, MessageWithParts, Part, UserMessage } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import { messageError } from "./errors.ts"
import { modelMessages } from "./history.ts"
import { languageModel } from "./language.ts"
import { newAssistantMessage } from "./assistant-message.ts"
import { StepParts } from "./parts.ts"
import { runStep } from "./step.ts"
import { NO_TOKENS, type Tokens } from "./usage.ts"
import { newUserMessage } from "./user-message.ts"

type CompactionPart = Extract<Part, { type: "compaction" }>
type ToolPart = Extract<Part, { type: "tool" }>

/**
 * Compaction as upstream 1.18 (`SessionCompaction`): a user message with a `compaction` part asks for it; the
 * `compaction` agent answers with a summary (`summary: true`) of the history rendered as text, and later turns
 * start from that summary. Pruning marks old tool outputs `time.compacted`, which the model then reads as cleared.
 */
export namespace Compaction {
  /** Pruning happens only when it would free more than this many estimated tokens. */
  export const PRUNE_MINIMUM = 20_000
  /** The newest tool outputs, up to this many estimated tokens, are never pruned. */
  export const PRUNE_PROTECT = 40_000
  const PRUNE_SKIPPED_TOOLS = ["skill"]
  const TOOL_OUTPUT_MAX_CHARS = 2_000
  /** Upstream's output reserve cap when the model declares an input limit. */
  const RESERVED_MAX = 20_000
  export const CLEARED_OUTPUT = "[Old tool result content cleared]"
  /** What the model reads for the compaction message in later turns. */
  export const SUMMARY_QUESTION = "What did we do so far?"
  export const CONTINUE_TEXT = "Continue if you have next steps, or stop and ask for clarification if you are unsure how to proceed."
  const OVERFLOW_NOTE =
    "The previous request exceeded the provider's size limit due to large media attachments. The conversation was compacted and media files were removed from context. If the user was asking about attached images or files, explain that the attachments were too large to process and suggest they try again with smaller or fewer files.\n\n"

  interface Settings {
    auto: boolean
    prune: boolean
    reserved?: number
  }

  /** The `compaction` section of the config (`auto` defaults to on, `prune` to off). */
  export function settings(config: Config): Settings {
    const section = (config.compaction ?? {}) as Record<string, unknown>
    return {
      auto: section.auto !== false,
      prune: section.prune === true,
      ...(typeof section.reserved === "number" ? { reserved: section.reserved } : {}),
    }
  }

  /** Upstream's token estimate: four characters a token. */
  export function estimate(text: string): number {
    return Math.max(0, Math.round(text.length / 4))
  }

  /** The prompt tokens a step may use: the input limit less the reserve, else the context less the output cap. */
  export function usableContext(model: Model, config: Config): number {
    if (model.limit.context === 0) return 0
    const maxOutput = Math.min(model.limit.output, 32_000)
    if (model.limit.input) return Math.max(0, model.limit.input - (settings(config).reserved ?? Math.min(RESERVED_MAX, maxOutput)))
    return Math.max(0, model.limit.context - maxOutput)
  }

  /** Whether a step's tokens reached the usable context (never when `compaction.auto` is false or the limit unknown). */
  export function isOverflow(tokens: Tokens, model: Model, config: Config): boolean {
    if (!settings(config).auto || model.limit.context === 0) return false
    const used = tokens.total || tokens.input + tokens.output + tokens.cache.read + tokens.cache.write
    return used >= usableContext(model, config)
  }

  /** The message's unanswered request for compaction, if it is one. */
  export function requested(message: MessageWithParts): CompactionPart | undefined {
    if (message.info.role !== "user") return undefined
    return message.parts.find((part): part is CompactionPart => part.type === "compaction")
  }

  /** A summary that finished without error: the compacted history starts at its compaction message. */
  function isCompleteSummary(info: MessageWithParts["info"]): info is AssistantMessage {
    return info.role === "assistant" && info.summary === true && info.finish !== undefined && !info.error
  }

  /**
   * The history a turn reads (upstream's filterCompacted): from the newest compaction message that has a complete
   * summary, everything older dropped, except the recent turns it kept (`tail_start_id`), which follow the summary.
   */
  export function fromLastSummary(history: MessageWithParts[]): MessageWithParts[] {
    const summarized = new Set(history.flatMap((entry) => (isCompleteSummary(entry.info) ? [entry.info.parentID] : [])))
    const at = history.findLastIndex((entry) => summarized.has(entry.info.id) && requested(entry) !== undefined)
    if (at <= 0) return history
    const tailStart = requested(history[at]!)!.tail_start_id
    const tail = tailStart ? history.findIndex((entry) => entry.info.id === tailStart) : -1
    if (tail < 0 || tail >= at) return history.slice(at)
    const summary = history.findIndex((entry, index) => index > at && entry.info.role === "assistant" && entry.info.summary && entry.info.parentID === history[at]!.info.id)
    if (summary < 0) return history.slice(tail)
    return [...history.slice(at, summary + 1), ...history.slice(tail, at), ...history.slice(summary + 1)]
  }

  /**
   * Upstream's select: the newest turns that fit in `compaction.preserve_recent_tokens` (default a quarter of the
   * usable context, within 2,000–15,000) stay as they are; only what comes before them is summarized.
   */
  async function keptTail(ports: Ports, directory: string, messages: MessageWithParts[], model: Model, config: Config): Promise<{ head: MessageWithParts[]; tailStart?: string }> {
    const section = (config.compaction ?? {}) as Record<string, unknown>
    const tailTurns = typeof section.tail_turns === "number" ? section.tail_turns : undefined
    if (tailTurns !== undefined && tailTurns <= 0) return { head: messages }
    const budget = typeof section.preserve_recent_tokens === "number" ? section.preserve_recent_tokens : Math.min(15_000, Math.max(2_000, Math.floor(usableContext(model, config) * 0.25)))
    const size = async (slice: MessageWithParts[]) => estimate(JSON.stringify(await modelMessages(ports, directory, slice, model)))
    const starts = messages.flatMap((entry, index) => (entry.info.role === "user" && !requested(entry) ? [index] : []))
    const turns = starts.map((start, index) => ({ start, end: starts[index + 1] ?? messages.length }))
    let used = 0
    let kept: number | undefined
    for (const turn of (tailTurns === undefined ? turns : turns.slice(-tailTurns)).reverse()) {
      const turnSize = await size(messages.slice(turn.start, turn.end))
      if (used + turnSize <= budget) {
        used += turnSize
        kept = turn.start
        continue
      }
      // The turn does not fit whole: its newest messages that do.
      for (let from = turn.start + 1; from < turn.end; from++) {
        if ((await size(messages.slice(from, turn.end))) > budget - used) continue
        kept = from
        break
      }
      break
    }
    if (kept === undefined || kept === 0) return { head: messages }
    return { head: messages.slice(0, kept), tailStart: messages[kept]!.info.id }
  }

  /** Stores the user message that asks for compaction (answered by the session's next turn). */
  export async function request(
    ports: Ports,
    session: Session,
    input: { agent: string; model: UserMessage["model"]; auto: boolean; overflow?: boolean },
  ): Promise<MessageWithParts> {
    const now = ports.clock.now()
    const info = newUserMessage(session.id, now, input)
    const part: CompactionPart = {
      id: Identifier.ascending("part", now),
      sessionID: session.id,
      messageID: info.id,
      type: "compaction",
      auto: input.auto,
      ...(input.overflow !== undefined ? { overflow: input.overflow } : {}),
    }
    await store(ports, session, info, [part])
    return { info, parts: [part] }
  }

  export interface Outcome {
    summary: MessageWithParts
    /** The loop stops: the summary failed, or nothing follows a summary asked for by hand. */
    stop: boolean
  }

  /**
   * Answers a compaction message: the summary of `history` (the compacted history up to it) by the `compaction`
   * agent, without tools. When automatic, the turn goes on: the user message that overflowed is asked again, or a
   * synthetic "continue" message is added. Publishes `session.compacted` when the summary is done.
   */
  export async function run(ports: Ports, session: Session, compaction: MessageWithParts, history: MessageWithParts[], signal: AbortSignal): Promise<Outcome> {
    const user = compaction.info as UserMessage
    const part = requested(compaction)!
    const directory = session.directory
    const [project, config] = await Promise.all([Projects.current(ports, directory), Configs.get(ports, directory)])
    const before = history.slice(0, Math.max(0, history.findIndex((entry) => entry.info.id === user.id)))
    // A provider that refused the request as too large: the last real prompt is asked again after the summary.
    let replay: MessageWithParts | undefined
    let summarized = before
    if (part.overflow) {
      const at = before.findLastIndex((entry) => entry.info.role === "user" && !requested(entry))
      if (at >= 0 && before.slice(0, at).some((entry) => entry.info.role === "user" && !requested(entry))) {
        replay = before[at]
        summarized = before.slice(0, at)
      }
    }
    const previous = summarized.findLast((entry) => isCompleteSummary(entry.info))
    const previousPair = new Set(previous ? [previous.info.id, (previous.info as AssistantMessage).parentID] : [])
    const configuredModel = agentModel(config)
    const ref: ModelRef = configuredModel ?? user.model
    const resolved = await Providers.model(ports, directory, ref, config).catch(() => undefined)
    const rest = summarized.filter((entry) => !previousPair.has(entry.info.id))
    const { head, tailStart } = resolved ? await keptTail(ports, directory, rest, resolved.model, config) : { head: rest, tailStart: undefined }
    const context = head
      .map(render)
      .filter(Boolean)
      .join("\n\n")
    const text = prompt(previous ? summaryText(previous) : undefined, context)

    const base = newAssistantMessage(
      {
        sessionID: session.id,
        parentID: user.id,
        model: ref,
        agent: "compaction",
        summary: true,
        directory,
        worktree: project.worktree,
        ...(user.model.variant !== undefined ? { variant: user.model.variant } : {}),
      },
      ports.clock.now(),
    )
    const parts = new StepParts(ports, directory, base)
    let error: MessageError | undefined
    let outcome: Awaited<ReturnType<typeof runStep>> | undefined
    try {
      if (!resolved) await Providers.model(ports, directory, ref, config)
      const agent = { ...Agents.pick(config, undefined), name: "compaction", temperature: undefined, topP: undefined }
      outcome = await runStep({
        ports,
        session,
        agent,
        model: resolved!.model,
        language: languageModel(ports, resolved!.provider, resolved!.model),
        system: [],
        messages: [{ role: "user", content: [{ type: "text", text }] }],
        tools: {},
        // The summary is written without tools, MCP ones included.
        mcp: new Map(),
        parts,
        signal,
        calls: [],
      })
      error = outcome.error
      if (error?.name === "ContextOverflowError") {
        const message = replay ? "Conversation history too large to compact - exceeds model context limit" : "Session too large to compact - context exceeds model limit even after stripping media"
        error = new ContextOverflowError({ message }).toObject() as MessageError
      }
    } catch (failure) {
      error = messageError(failure, ref.providerID)
    }
    const finished: AssistantMessage = {
      ...parts.info,
      tokens: outcome?.tokens ?? NO_TOKENS,
      cost: outcome?.cost ?? 0,
      ...(outcome?.finish !== undefined ? { finish: outcome.finish } : {}),
      ...(error ? { error } : {}),
    }
    const stepFinish = outcome?.finish !== undefined && !error ? { reason: outcome.finish, tokens: outcome.tokens, cost: outcome.cost } : undefined
    await parts.finish(finished, ports.clock.now(), stepFinish)
    const summary = { info: parts.info, parts: parts.list() }
    if (error) {
      await Bus.publish(ports, directory, "session.error", { sessionID: session.id, error })
      return { summary, stop: true }
    }
    if (tailStart) {
      const kept: CompactionPart = { ...part, tail_start_id: tailStart }
      await ports.sessions.putMessage(user, [kept])
      await Bus.publish(ports, directory, "message.part.updated", { sessionID: session.id, part: kept, time: ports.clock.now() })
    }
    if (part.auto) {
      if (replay) await askAgain(ports, session, replay)
      else await askToContinue(ports, session, user, part.overflow === true)
    }
    await Bus.publish(ports, directory, "session.compacted", { sessionID: session.id })
    return { summary, stop: !part.auto }
  }

  /** Prunes when the config's `compaction.prune` asks for it (after every busy spell, as upstream after its loop). */
  export async function pruneIfConfigured(ports: Ports, session: Session): Promise<void> {
    const config = await Configs.get(ports, session.directory)
    if (!settings(config).prune) return
    await prune(ports, session).catch((error) => ports.log.error("pruning failed", { sessionID: session.id, error: String(error) }))
  }

  /**
   * Marks old completed tool outputs compacted (upstream's prune): walking back from the newest, past the last two
   * user turns, outputs beyond the newest PRUNE_PROTECT estimated tokens, when they add up to more than PRUNE_MINIMUM.
   * Stops at a summary or at outputs already pruned; `skill` outputs are kept.
   */
  export async function prune(ports: Ports, session: Session): Promise<void> {
    const history = await ports.sessions.messages(session.id, {})
    let total = 0
    let pruned = 0
    const marked: ToolPart[] = []
    let turns = 0
    walk: for (let index = history.length - 1; index >= 0; index--) {
      const entry = history[index]!
      if (entry.info.role === "user") turns++
      if (turns < 2) continue
      if (entry.info.role === "assistant" && entry.info.summary) break
      for (let at = entry.parts.length - 1; at >= 0; at--) {
        const part = entry.parts[at]!
        if (part.type !== "tool" || part.state.status !== "completed" || PRUNE_SKIPPED_TOOLS.includes(part.tool)) continue
        if (part.state.time.compacted) break walk
        const size = estimate(part.state.output)
        total += size
        if (total <= PRUNE_PROTECT) continue
        pruned += size
        marked.push(part)
      }
    }
    if (pruned <= PRUNE_MINIMUM) return
    const now = ports.clock.now()
    for (const part of marked) {
      if (part.state.status !== "completed") continue
      part.state = { ...part.state, time: { ...part.state.time, compacted: now } }
      const owner = history.find((entry) => entry.info.id === part.messageID)!
      await ports.sessions.putMessage(owner.info, [part])
      await Bus.publish(ports, session.directory, "message.part.updated", { sessionID: session.id, part, time: now })
    }
  }

  /** One message as the compaction prompt shows it (upstream's rendering, tool results cut at 2,000 characters). */
  export function render(entry: MessageWithParts): string {
    if (entry.info.role === "user") {
      const text = entry.parts.flatMap((part) => (part.type === "text" && !part.ignored && part.text ? [part.text] : [])).join("\n")
      const files = entry.parts.flatMap((part) => (part.type === "file" ? [`[Attached ${part.mime}: ${part.filename ?? "file"}]`] : []))
      return [...(text ? [`[User]: ${text}`] : []), ...files].join("\n")
    }
    return entry.parts
      .flatMap((part) => {
        if (part.type === "text") return part.text ? [`[Assistant]: ${part.text}`] : []
        if (part.type === "reasoning") return part.text ? [`[Assistant reasoning]: ${part.text}`] : []
        if (part.type !== "tool") return []
        const call = `[Assistant tool call]: ${part.tool}(${JSON.stringify(part.state.input)})`
        if (part.state.status === "completed") {
          const output = part.state.time.compacted ? CLEARED_OUTPUT : truncate(part.state.output)
          return [call, `[Tool result]: ${output}`]
        }
        if (part.state.status === "error") return [call, `[Tool error]: ${part.state.error}`]
        return [call]
      })
      .join("\n")
  }

  /** Upstream's compaction prompt: the conversation, the prior summary when there is one, and the template. */
  export function prompt(previousSummary: string | undefined, context: string): string {
    const conversation = `Here is the conversation so far:\n\n<conversation>\n${context}\n</conversation>`
    if (!previousSummary) {
      return [conversation, "Create a new anchored summary from the conversation history in the <conversation> tags above so another coding agent can continue the work.", TEMPLATE].join("\n\n")
    }
    return [conversation, `Here is the summary of the conversation before the <conversation> above:\n\n<prior-summary>\n${previousSummary}\n</prior-summary>`, COMBINE, TEMPLATE].join("\n\n")
  }

  function truncate(output: string): string {
    return output.length <= TOOL_OUTPUT_MAX_CHARS ? output : `${output.slice(0, TOOL_OUTPUT_MAX_CHARS)}\n[truncated]`
  }

  function summaryText(entry: MessageWithParts): string | undefined {
    const text = entry.parts.flatMap((part) => (part.type === "text" ? [part.text.trim()] : [])).filter(Boolean).join("\n\n").trim()
    return text || undefined
  }

  /** `agent.compaction.model` of the config, as upstream lets a user pick the summarizing model. */
  function agentModel(config: Config): ModelRef | undefined {
    return parseModel(((config.agent ?? {}) as Record<string, { model?: unknown } | undefined>).compaction?.model)
  }

  async function askToContinue(ports: Ports, session: Session, compaction: UserMessage, overflow: boolean): Promise<void> {
    const now = ports.clock.now()
    const info = newUserMessage(session.id, now, compaction)
    const part: Part = {
      id: Identifier.ascending("part", now),
      sessionID: session.id,
      messageID: info.id,
      type: "text",
      text: (overflow ? OVERFLOW_NOTE : "") + CONTINUE_TEXT,
      synthetic: true,
      metadata: { compaction_continue: true },
      time: { start: now, end: now },
    }
    await store(ports, session, info, [part])
  }

  /** The prompt that overflowed, as a new user message after the summary (media left as a note). */
  async function askAgain(ports: Ports, session: Session, original: MessageWithParts): Promise<void> {
    const now = ports.clock.now()
    const was = original.info as UserMessage
    const info: UserMessage = {
      id: Identifier.ascending("message", now),
      sessionID: session.id,
      role: "user",
      time: { created: now },
      agent: was.agent,
      model: was.model,
      ...(was.format !== undefined ? { format: was.format } : {}),
      ...(was.tools !== undefined ? { tools: was.tools } : {}),
      ...(was.system !== undefined ? { system: was.system } : {}),
    }
    const parts = original.parts
      .filter((part) => part.type !== "compaction")
      .map((part): Part => {
        const media = part.type === "file" && (part.mime.startsWith("image/") || part.mime === "application/pdf")
        const copy: Part = media ? ({ type: "text", text: `[Attached ${part.mime}: ${part.filename ?? "file"}]` } as Part) : part
        return { ...copy, id: Identifier.ascending("part", now), messageID: info.id, sessionID: session.id } as Part
      })
    await store(ports, session, info, parts)
  }

  async function store(ports: Ports, session: Session, info: UserMessage, parts: Part[]): Promise<void> {
    await ports.sessions.putMessage(info, parts)
    await Bus.publish(ports, session.directory, "message.updated", { sessionID: session.id, info })
    for (const part of parts) await Bus.publish(ports, session.directory, "message.part.updated", { sessionID: session.id, part, time: info.time.created })
  }
}

const TEMPLATE = `Output exactly the Markdown structure shown inside <template> and keep the section order unchanged. Do not include the <template> tags in your response.
<template>
## Objective
- [one or two brief sentences describing what the user is trying to accomplish]

## Important Details
- [constraints/preferences, decisions and why, important facts/assumptions, exact context needed to continue, or "(none)"]

## Work State
### Completed
- [finished work, verified facts, or changes made; otherwise "(none)"]

### Active
- [current work, partial changes, or investigation state; otherwise "(none)"]

### Blocked
- [blockers, failing commands, or unknowns; otherwise "(none)"]

## Next Move
1. [immediate concrete action, or "(none)"]
2. [next action if known, or "(none)"]

## Relevant Files
- [file or directory path: why it matters, or "(none)"]
</template>

Rules:
- Keep every section, even when empty.
- Use terse bullets, not prose paragraphs.
- Preserve exact file paths, symbols, commands, error strings, URLs, and identifiers when known.
- Do not mention the summary process or that context was compacted.`

const COMBINE = `The <prior-summary> summarizes everything that happened before the <conversation>. Construct a new summary that combines both. The <prior-summary> is discarded after this: anything you do not carry into the new summary is lost.

When combining:
- Carry forward objectives, constraints, user directives, decisions, and parallel workstreams from the <prior-summary> even when the <conversation> does not mention them. Drop only what is finished and no longer needed.
- The <conversation> is more recent than the <prior-summary>. Where they conflict, the conversation wins: state the corrected fact and drop the old claim.
- Add new progress, decisions, constraints, and context from the conversation.
- Move completed work from "Active" to "Completed".
- If a blocker has been resolved, update the summary to reflect that while keeping any details still needed to continue the work.
- Update "Objective" and "Next Move" to reflect the current work state.`
