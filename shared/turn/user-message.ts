import { Identifier } from "../id.ts"
import type { UserMessage } from "../schema/message.ts"

/** A user message the server writes itself (a compaction request, a follow-up, a shell command) for `agent` and `model`. */
export function newUserMessage(sessionID: string, created: number, from: Pick<UserMessage, "agent" | "model">, id?: string): UserMessage {
  return { id: id ?? Identifier.ascending("message", created), sessionID, role: "user", time: { created }, agent: from.agent, model: from.model }
}
