import { Identifier } from "../id.ts"
import type { AssistantMessage } from "../schema/message.ts"
import { NO_TOKENS } from "./usage.ts"

/** Who answers, with what, where: everything a new assistant message needs beyond its time. */
export interface AssistantStart {
  sessionID: string
  /** The user message it answers. */
  parentID: string
  model: { providerID: string; modelID: string }
  /** The agent answering; also the message's `mode`. */
  agent: string
  directory: string
  worktree: string
  variant?: string
  /** A compaction's answer: `summary: true`. */
  summary?: true
}

/** A new assistant message created at `now`, with nothing produced yet: what a step, a subtask, a shell command or a compaction starts from. */
export function newAssistantMessage(start: AssistantStart, now: number): AssistantMessage {
  return {
    id: Identifier.ascending("message", now),
    sessionID: start.sessionID,
    role: "assistant",
    time: { created: now },
    parentID: start.parentID,
    modelID: start.model.modelID,
    providerID: start.model.providerID,
    mode: start.agent,
    agent: start.agent,
    ...(start.summary ? { summary: true } : {}),
    path: { cwd: start.directory, root: start.worktree },
    cost: 0,
    tokens: { ...NO_TOKENS },
    ...(start.variant !== undefined ? { variant: start.variant } : {}),
  }
}
