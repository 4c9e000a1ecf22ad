import { ConflictError, MessageAbortedError } from "../error.ts"
import { Identifier } from "../id.ts"
import type { Ports } from "../ports.ts"
import type { MessageWithParts, Part, PromptInput, UserMessage } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import { Bus } from "./bus.ts"
import { Sessions } from "./session.ts"

/** The model recorded on a user message when the client names none and no provider is configured. */
export const UNCONFIGURED_MODEL = { providerID: "unconfigured", modelID: "unconfigured" } as const
export const DEFAULT_AGENT = "build"

export namespace Prompt {
  /** Turns in flight in this process, so that abort can reach them. */
  const running = new Map<string, AbortController>()

  export interface Accepted {
    session: Session
    user: MessageWithParts
  }

  /** Stores the user message and its parts and announces them; the reply is a separate step. */
  export async function accept(ports: Ports, sessionID: string, input: PromptInput): Promise<Accepted> {
    const session = await Sessions.get(ports, sessionID)
    if (input.messageID && (await ports.sessions.message(sessionID, input.messageID))) {
      throw new ConflictError({ message: `Message ${input.messageID} already exists in session ${sessionID}` })
    }
    if (!input.noReply && !(await ports.sessions.claimTurn(session.directory, sessionID))) {
      throw new ConflictError({ message: `Session ${sessionID} is busy with another turn; abort it or wait` })
    }
    try {
      return await storeUserMessage(ports, session, input)
    } catch (error) {
      if (!input.noReply) await ports.sessions.setStatus(session.directory, sessionID, { type: "idle" })
      throw error
    }
  }

  async function storeUserMessage(ports: Ports, session: Session, input: PromptInput): Promise<Accepted> {
    const sessionID = session.id
    const now = ports.clock.now()
    const info: UserMessage = {
      id: input.messageID ?? Identifier.ascending("message", now),
      sessionID,
      role: "user",
      time: { created: now },
      agent: input.agent ?? DEFAULT_AGENT,
      model: { ...(input.model ?? UNCONFIGURED_MODEL), ...(input.variant !== undefined ? { variant: input.variant } : {}) },
      ...(input.format !== undefined ? { format: input.format } : {}),
      ...(input.system !== undefined ? { system: input.system } : {}),
      ...(input.tools !== undefined ? { tools: input.tools } : {}),
    }
    const parts = input.parts.map(
      ({ id, ...part }) => ({ id: id ?? Identifier.ascending("part", now), sessionID, messageID: info.id, ...part }) as Part,
    )
    await ports.sessions.putMessage(info, parts)
    await Bus.publish(ports, session.directory, "message.updated", { sessionID, info })
    for (const part of parts) {
      await Bus.publish(ports, session.directory, "message.part.updated", { sessionID, part, time: now })
    }
    const touched = { ...session, time: { ...session.time, updated: now } }
    await Sessions.save(ports, touched)
    return { session: touched, user: { info, parts } }
  }

  /** Runs the turn `accept` claimed: busy, the runner, then idle; a failed turn is reported as `session.error`. */
  export async function reply(ports: Ports, accepted: Accepted): Promise<MessageWithParts> {
    const { session, user } = accepted
    const controller = new AbortController()
    running.set(session.id, controller)
    await Bus.publish(ports, session.directory, "session.status", { sessionID: session.id, status: { type: "busy" } })
    try {
      const result = await ports.runner.run(
        { session, userMessage: user.info, parts: user.parts, signal: controller.signal },
        { ports, directory: session.directory },
      )
      if (result.info.role === "assistant" && result.info.error) {
        await Bus.publish(ports, session.directory, "session.error", { sessionID: session.id, error: result.info.error })
      }
      return result
    } finally {
      running.delete(session.id)
      await Sessions.setStatus(ports, session, { type: "idle" })
    }
  }

  /** Stops the session's turn if one runs here and leaves the session idle. */
  export async function abort(ports: Ports, sessionID: string): Promise<void> {
    const session = await Sessions.get(ports, sessionID)
    const controller = running.get(sessionID)
    if (controller) {
      controller.abort(new MessageAbortedError({ message: "Aborted by the client" }))
      return
    }
    const status = (await ports.sessions.status(session.directory))[sessionID]
    if (status && status.type !== "idle") await Sessions.setStatus(ports, session, { type: "idle" })
  }
}
