import { generateText, type LanguageModel } from "ai"
import type { Ports } from "../ports.ts"
import type { Session } from "../schema/session.ts"
import { Sessions } from "../domain/session.ts"

/** The words that mark a title request (the scripted test model answers such requests apart from agent steps). */
export const TITLE_PROMPT =
  "You write a title for this conversation: at most 50 characters, in the user's language, naming its topic. " +
  "Answer with the title alone, no quotes, no punctuation at the end."

/** Titles the session from its first prompt, unless someone renamed it meanwhile. Failures leave the title as it is. */
export async function generateTitle(ports: Ports, session: Session, model: LanguageModel, prompt: string, signal: AbortSignal): Promise<void> {
  try {
    const { text } = await generateText({
      model,
      system: TITLE_PROMPT,
      messages: [{ role: "user", content: prompt.slice(0, 8_000) }],
      maxRetries: 0,
      abortSignal: signal,
    })
    const title = text.replace(/<think>[\s\S]*?<\/think>/g, "").trim().split("\n")[0]!.replace(/^["'`]+|["'`.]+$/g, "").trim().slice(0, 100)
    if (!title) return
    const current = await Sessions.get(ports, session.id)
    if (current.title !== session.title) return
    await Sessions.update(ports, session.id, { title })
  } catch (error) {
    ports.log.warn("title generation failed", { sessionID: session.id, error: error instanceof Error ? error.message : String(error) })
  }
}

/** Upstream's default titles: a session still carrying one gets a generated title. */
export function hasDefaultTitle(session: Session): boolean {
  return /^(New session|Child session) - \d{4}-\d{2}-\d{2}T/.test(session.title)
}
