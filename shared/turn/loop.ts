import type { LanguageModel } from "ai"
import { Bus } from "../domain/bus.ts"
import { Agents } from "../domain/agent.ts"
import { Configs } from "../domain/config.ts"
import { Projects } from "../domain/project.ts"
import { Sessions } from "../domain/session.ts"
import { Permissions, Questions } from "../domain/questions.ts"
import type { Ports } from "../ports.ts"
import { parseModelRef, Providers } from "../provider/provider.ts"
import type { Agent } from "../schema/app-info.ts"
import type { Config, Model } from "../schema/config.ts"
import type { AssistantMessage, MessageError, MessageWithParts, UserMessage } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import { aborted, isRetryable, messageError, retryAfterMs } from "./errors.ts"
import { modelMessages } from "./history.ts"
import { languageModel } from "./language.ts"
import { newAssistantMessage, type AssistantStart } from "./assistant-message.ts"
import { StepParts } from "./parts.ts"
import { runStep } from "./step.ts"
import { systemPrompt } from "./system.ts"
import { generateTitle, hasDefaultTitle } from "./title.ts"
import { modelTools } from "./tools.ts"
import { McpTools, type McpToolEntry } from "./mcp-tools.ts"
import { StructuredOutput } from "./structured.ts"
import { Compaction } from "./compaction.ts"
import { runSubtaskPart, subtaskOf } from "./subtask-part.ts"
import { addTokens, NO_TOKENS } from "./usage.ts"
import { MessageOutputLengthError, ProviderAuthError } from "../error.ts"
import { UNCONFIGURED_MODEL } from "../domain/prompt.ts"
import { SessionSummary } from "../domain/session-summary.ts"
import { Snapshots } from "../domain/snapshot.ts"

/** Steps a turn may take when the agent sets no `steps`. */
const DEFAULT_MAX_STEPS = 200
const LAST_STEP_NOTE =
  "You have reached the most steps this turn may take. Tools are no longer available: answer with what you have, and say what is left to do."

/**
 * The agent loop of a session, written once for both runtimes (the local agent runs it in its process; the edge
 * in the session's Durable Object). One loop per session at a time: a prompt that arrives while it runs is
 * stored and answered by the next turn, which takes the newest user message, as upstream.
 */
export namespace AgentLoop {
  interface Waiter {
    userID: string
    resolve(message: MessageWithParts): void
    reject(error: unknown): void
  }
  interface Loop {
    controller: AbortController
    waiters: Waiter[]
  }
  const loops = new Map<string, Loop>()
  const turnKey = (sessionID: string) => `turn/${sessionID}`

  /** Resolves with the assistant message that answers `userID` (the last one of its turn). */
  export function run(ports: Ports, sessionID: string, userID: string): Promise<MessageWithParts> {
    return new Promise((resolve, reject) => {
      const waiter = { userID, resolve, reject }
      const current = loops.get(sessionID)
      if (current) {
        current.waiters.push(waiter)
        return
      }
      const loop: Loop = { controller: new AbortController(), waiters: [waiter] }
      loops.set(sessionID, loop)
      void drive(ports, sessionID, loop).finally(() => loops.delete(sessionID))
    })
  }

  /** Whether this process (or object) runs a turn of the session. */
  export function running(sessionID: string): boolean {
    return loops.has(sessionID)
  }

  /** Stops the running turn at once and drops the queued prompts; false when no turn runs here. */
  export function abort(sessionID: string): boolean {
    const loop = loops.get(sessionID)
    if (!loop) return false
    loop.controller.abort(new Error("aborted"))
    return true
  }

  /**
   * Closes what a turn left open when its process (or object) died: the interrupted assistant message gets an
   * error and the session goes idle. Only for sessions with no loop running here.
   */
  export async function recover(ports: Ports, sessionID?: string): Promise<void> {
    // A named session (its object's watchdog) is closed whether or not its turn record landed.
    const entries = sessionID ? [turnKey(sessionID)] : (await ports.records.list<unknown>("turn/")).map(([key]) => key)
    for (const key of entries) {
      const id = key.slice("turn/".length)
      if (loops.has(id)) continue
      const session = await ports.sessions.get(id)
      if (session) {
        for (const { info, parts } of await ports.sessions.messages(id, { limit: 20 })) {
          if (info.role !== "assistant" || info.time.completed !== undefined) continue
          const error = messageError(new Error("The server stopped while this turn ran"), info.providerID)
          const closed: AssistantMessage = { ...info, error, time: { ...info.time, completed: ports.clock.now() } }
          const openParts = parts.filter((part) => part.type === "tool" && (part.state.status === "pending" || part.state.status === "running"))
          for (const part of openParts) {
            if (part.type !== "tool") continue
            const start = "time" in part.state ? part.state.time.start : closed.time.created
            part.state = { status: "error", input: part.state.input, error: "The server stopped while this tool ran", time: { start, end: ports.clock.now() } }
          }
          await ports.sessions.putMessage(closed, openParts)
          await Bus.publish(ports, session.directory, "message.updated", { sessionID: id, info: closed })
        }
        // Whatever the dead turn asked the user has nobody waiting for the answer.
        await Questions.abandon(ports, id)
        await Permissions.abandon(ports, id)
        // Announced only when it was not idle: a watchdog that fires after a clean end says nothing.
        const status = (await ports.sessions.status(session.directory))[id]
        if (status && status.type !== "idle") await Sessions.setStatus(ports, session, { type: "idle" })
      }
      await ports.records.delete(key)
    }
  }

  /**
   * Runs turns while prompts wait. The loop stays registered until the session is idle again, so a prompt that
   * arrives while the last turn winds down joins it (and gets its own turn) rather than starting a second loop.
   */
  async function drive(ports: Ports, sessionID: string, loop: Loop): Promise<void> {
    try {
      while (loop.waiters.length > 0 && !loop.controller.signal.aborted) {
        if ((await busySpell(ports, sessionID, loop)) === 0) break
      }
    } finally {
      loops.delete(sessionID)
      // Whoever still waits (the queue dropped by an abort, or a failure) gets the last word there is.
      const last = loop.waiters.length ? (await ports.sessions.messages(sessionID, { limit: 1 }).catch(() => []))[0] : undefined
      for (const waiter of loop.waiters.splice(0)) last ? waiter.resolve(last) : waiter.reject(new Error("The turn ended without a reply"))
    }
  }

  /** busy, then a turn for the newest user message until none is left unanswered, then idle; how many turns ran. */
  async function busySpell(ports: Ports, sessionID: string, loop: Loop): Promise<number> {
    let session = await Sessions.get(ports, sessionID).catch((error) => (settle(loop, undefined, error), undefined))
    if (!session) return 0
    // Written while the turn starts (locally the log keeps it ahead of the turn's own writes; on the edge the
    // session object's watchdog closes the turn whether or not it landed).
    const marked = ports.records.put(turnKey(sessionID), { directory: session.directory })
    marked.catch(() => {})
    await Sessions.setStatus(ports, session, { type: "busy" })
    let answered: string | undefined
    let turns = 0
    /** The prompts whose turns took snapshots: their diffs are summarized as the session goes idle. */
    const summarized: string[] = []
    // A turn's reply is handed over once the session is known to go on (the next turn starts) or is idle, as
    // upstream's: a client that reads the status right after its reply finds the session idle.
    let reply: MessageWithParts | undefined
    let failure: { error: unknown } | undefined
    try {
      while (!loop.controller.signal.aborted) {
        const history = Compaction.fromLastSummary(await ports.sessions.messages(sessionID, {}))
        const user = history.findLast((entry) => entry.info.role === "user")
        if (!user || (answered !== undefined && user.info.id <= answered)) break
        answered = user.info.id
        turns++
        if (reply) settle(loop, reply)
        reply = undefined
        if (Compaction.requested(user)) {
          if (history.some((entry) => entry.info.role === "assistant" && entry.info.parentID === user.info.id)) break
          // The summary answers nobody's prompt: an automatic one goes on with the turn it interrupted.
          if ((await Compaction.run(ports, session, user, history, loop.controller.signal)).stop) break
          continue
        }
        const task = subtaskOf(user)
        const result = task
          ? await runSubtaskPart(ports, session, user, task, loop.controller.signal)
          : await turn(ports, session, user.info as UserMessage, history, loop.controller.signal)
        if (result?.parts.some((part) => part.type === "step-start" && part.snapshot)) summarized.push(user.info.id)
        // A command's subtask goes on in a new turn, whose reply is the one its waiter gets.
        reply = result
        session = await Sessions.get(ports, sessionID)
      }
      await Compaction.pruneIfConfigured(ports, session)
    } catch (error) {
      ports.log.error("turn failed", { sessionID, error: error instanceof Error ? error.stack ?? error.message : String(error) })
      failure = { error }
    } finally {
      // Before idle, not after as upstream's: a revert (allowed once idle) must not race the summary's session write.
      for (const userID of summarized) {
        await SessionSummary.summarize(ports, session, userID).catch((error) => ports.log.warn("session summary failed", { sessionID, error: String(error) }))
      }
      await Sessions.setStatus(ports, session, { type: "idle" }).catch(() => {})
      await marked.then(() => ports.records.delete(turnKey(sessionID))).catch(() => {})
    }
    if (failure) settle(loop, undefined, failure.error)
    else {
      if (reply) settle(loop, reply)
      // A waiter whose message was answered before (a repeated prompt of a stored message) takes the last reply.
      const last = (await ports.sessions.messages(sessionID, { limit: 1 }).catch(() => []))[0]
      if (last) settle(loop, last.info.role === "assistant" ? last : undefined)
    }
    return turns
  }

  /** Answers the waiters of user messages up to the one this turn answered. */
  function settle(loop: Loop, result: MessageWithParts | undefined, error?: unknown) {
    const answers = result?.info.role === "assistant" ? result.info.parentID : undefined
    for (const waiter of [...loop.waiters]) {
      if (error !== undefined) waiter.reject(error)
      else if (result && answers !== undefined && waiter.userID <= answers) waiter.resolve(result)
      else continue
      loop.waiters.splice(loop.waiters.indexOf(waiter), 1)
    }
  }

  /**
   * One turn: steps until the model stops calling tools (or the step limit, or an error), for `user`. Undefined
   * when it stopped to ask for compaction (the context is nearly full): the turn goes on after the summary.
   */
  async function turn(ports: Ports, session: Session, user: UserMessage, history: MessageWithParts[], signal: AbortSignal): Promise<MessageWithParts | undefined> {
    const directory = session.directory
    const [project, config] = await Promise.all([Projects.current(ports, directory), Configs.get(ports, directory)])
    const agent = (() => {
      try {
        return Agents.pick(config, user.agent)
      } catch {
        // the agent was removed from the config since the prompt: the default one answers
        return Agents.pick(config, undefined)
      }
    })()
    const start: AssistantStart = {
      sessionID: session.id,
      parentID: user.id,
      model: user.model,
      agent: agent.name,
      directory,
      worktree: project.worktree,
      ...(user.model.variant !== undefined ? { variant: user.model.variant } : {}),
    }
    const newMessage = () => new StepParts(ports, directory, newAssistantMessage(start, ports.clock.now()))

    let model: Model
    let language: LanguageModel
    try {
      if (user.model.providerID === UNCONFIGURED_MODEL.providerID) {
        throw new ProviderAuthError({
          providerID: UNCONFIGURED_MODEL.providerID,
          message: "No model provider is configured: add one to opencode.json (provider, model) or store a key with PUT /auth/:providerID",
        })
      }
      const resolved = await Providers.model(ports, directory, user.model, config)
      model = resolved.model
      language = languageModel(ports, resolved.provider, resolved.model)
    } catch (error) {
      const parts = newMessage()
      return finishWithError(ports, session, parts, messageError(error, user.model.providerID))
    }

    const firstPrompt = history.filter((entry) => entry.info.role === "user").length === 1
    if (firstPrompt && !session.parentID && hasDefaultTitle(session)) {
      const text = history.at(-1)?.parts.flatMap((part) => (part.type === "text" && !part.synthetic ? [part.text] : [])).join("\n") ?? ""
      const titling = titleModel(ports, directory, config).catch(() => undefined)
      if (text) ports.background(titling.then((small) => generateTitle(ports, session, small ?? language, text, signal)))
    }

    const compact = (overflow?: boolean) => Compaction.request(ports, session, { agent: user.agent, model: user.model, auto: true, ...(overflow ? { overflow } : {}) }).then(() => undefined)
    const previous = history.findLast((entry) => entry.info.role === "assistant" && entry.info.finish !== undefined)?.info as AssistantMessage | undefined
    if (previous && !previous.summary && Compaction.isOverflow(previous.tokens, model, config)) return compact()

    const mcp = model.capabilities.toolcall ? await McpTools.offered(ports, directory, config, agent, user.tools) : new Map<string, McpToolEntry>()
    const tools = model.capabilities.toolcall ? { ...modelTools(config, agent, user.tools, session.parentID !== undefined), ...McpTools.toolSet(mcp) } : {}
    const maxSteps = agent.steps !== undefined && agent.steps > 0 ? agent.steps : DEFAULT_MAX_STEPS
    const calls: string[] = []
    const format = user.format?.type === "json_schema" ? user.format : undefined
    let correction: string | undefined
    let corrections = 0
    let totals = { tokens: { ...NO_TOKENS }, cost: 0 }
    let last: StepParts | undefined
    let compaction: { overflow?: boolean } | undefined
    for (let step = 1; ; step++) {
      const final = step >= maxSteps
      const parts = newMessage()
      last = parts
      const notes = [user.system, format && StructuredOutput.instruction(format), correction, final ? LAST_STEP_NOTE : undefined]
      // The first step sees the history the turn was started from; later ones, what the steps before stored.
      const [messages, system, snapshot] = await Promise.all([
        (step === 1 ? Promise.resolve(history) : ports.sessions.messages(session.id, {}).then(Compaction.fromLastSummary)).then((stored) =>
          modelMessages(ports, directory, stored, model),
        ),
        systemPrompt(ports, { directory, project, agent, model, instructions: config.instructions ?? [], extra: notes.filter(Boolean).join("\n\n") || undefined }),
        Snapshots.track(ports, directory, config),
      ])
      const callModel = () => runStep({ ports, session, agent, model, language, system, messages, tools: final ? {} : tools, mcp, parts, signal, calls, snapshot })
      let outcome = await callModel()
      for (let attempt = 1; outcome.error && !outcome.produced && isRetryable(outcome.error) && attempt <= ports.config.modelRetries; attempt++) {
        if (!(await waitToRetry(ports, session, attempt, outcome.error, signal))) {
          outcome = { ...outcome, error: aborted() }
          break
        }
        outcome = await callModel()
      }
      totals = { tokens: addTokens(totals.tokens, outcome.tokens), cost: totals.cost + outcome.cost }
      const lengthError = outcome.finish === "length" ? (new MessageOutputLengthError({ message: "The model stopped at its output limit" }).toObject() as MessageError) : undefined
      // A provider that refuses the request as too large: compaction, unless the config turned it off.
      const refused = outcome.error?.name === "ContextOverflowError" && Compaction.settings(config).auto
      let error = refused ? undefined : (outcome.error ?? lengthError)
      const answered = !error && !outcome.rejected && outcome.finish !== "tool-calls"
      const checked = format && answered ? StructuredOutput.check(format, parts.list()) : undefined
      correction = undefined
      if (checked && "problem" in checked) {
        if (corrections < StructuredOutput.retries(format!) && !final) correction = StructuredOutput.correction(checked.problem)
        else error = StructuredOutput.failure(checked.problem, corrections)
        corrections++
      }
      const finished: AssistantMessage = {
        ...parts.info,
        tokens: outcome.tokens,
        cost: outcome.cost,
        ...(outcome.finish !== undefined ? { finish: outcome.finish } : {}),
        ...(error ? { error } : {}),
        ...(checked && "value" in checked ? { structured: checked.value } : {}),
      }
      // The files the step changed (even one that failed or was aborted), so a revert can put them back.
      const after = snapshot && (await Snapshots.track(ports, directory, config))
      const patch = await Snapshots.patch(ports, directory, snapshot, after)
      const stepFinish =
        outcome.finish !== undefined && !outcome.error ? { reason: outcome.finish, ...(after ? { snapshot: after } : {}), tokens: outcome.tokens, cost: outcome.cost } : undefined
      await parts.finish(finished, ports.clock.now(), stepFinish, patch)
      const done = !correction && (error || outcome.rejected || signal.aborted || outcome.toolCalls === 0 || outcome.finish !== "tool-calls" || final)
      // A step that filled the context ends the turn in a compaction, which goes on from its summary.
      const overflowed = !refused && !correction && !done && Compaction.isOverflow(outcome.tokens, model, config)
      // The turn's last summary comes as the session goes idle (busySpell).
      if (snapshot && !(done || refused || overflowed)) await SessionSummary.summarize(ports, session, user.id)
      if (error || refused) await Bus.publish(ports, directory, "session.error", { sessionID: session.id, error: error ?? outcome.error })
      if (refused) {
        compaction = { overflow: true }
        break
      }
      if (correction) continue
      if (overflowed) {
        compaction = {}
        break
      }
      if (done) break
    }
    const current = await Sessions.get(ports, session.id)
    await Sessions.save(ports, {
      ...current,
      cost: (current.cost ?? 0) + totals.cost,
      tokens: addTokens(current.tokens ?? NO_TOKENS, totals.tokens),
      model: { id: user.model.modelID, providerID: user.model.providerID, ...(user.model.variant ? { variant: user.model.variant } : {}) },
      time: { ...current.time, updated: ports.clock.now() },
    })
    if (compaction) return compact(compaction.overflow)
    return { info: last.info, parts: last.list() }
  }

  async function finishWithError(ports: Ports, session: Session, parts: StepParts, error: MessageError): Promise<MessageWithParts> {
    await parts.finish({ ...parts.info, error }, ports.clock.now())
    await Bus.publish(ports, session.directory, "session.error", { sessionID: session.id, error })
    return { info: parts.info, parts: [] }
  }

  async function titleModel(ports: Ports, directory: string, config: Config): Promise<LanguageModel | undefined> {
    const ref = parseModelRef(config.small_model)
    if (!ref) return undefined
    const resolved = await Providers.model(ports, directory, ref, config)
    return languageModel(ports, resolved.provider, resolved.model)
  }

  /** Shows `retry` status until the next attempt; false when the turn was aborted meanwhile. */
  async function waitToRetry(ports: Ports, session: Session, attempt: number, error: MessageError, signal: AbortSignal): Promise<boolean> {
    const now = ports.clock.now()
    const delay = Math.min(retryAfterMs(error, now) ?? 2_000 * 2 ** (attempt - 1), 60_000)
    const message = (error.data as { message?: string }).message ?? error.name
    await Sessions.setStatus(ports, session, { type: "retry", attempt, message, next: now + delay })
    const waited = await new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(false)
      const timer = setTimeout(() => (signal.removeEventListener("abort", stop), resolve(true)), delay)
      const stop = () => (clearTimeout(timer), resolve(false))
      signal.addEventListener("abort", stop, { once: true })
    })
    if (waited) await Sessions.setStatus(ports, session, { type: "busy" })
    return waited
  }
}
