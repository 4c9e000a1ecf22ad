import { ConflictError } from "../error.ts"
import { Identifier } from "../id.ts"
import type { Ports } from "../ports.ts"
import { Providers, type ModelRef } from "../provider/provider.ts"
import type { MessageWithParts, Part, PromptInput, UserMessage } from "../schema/message.ts"
import type { Session } from "../schema/session.ts"
import { Agents } from "./agent.ts"
import { Configs } from "./config.ts"
import type { Config } from "../schema/config.ts"
import { Bus } from "./bus.ts"
import { SessionRevert } from "./revert.ts"
import { Sessions } from "./session.ts"

/** The model recorded on a user message when neither the prompt, the agent, the config nor any connected provider names one. */
export const UNCONFIGURED_MODEL = { providerID: "unconfigured", modelID: "unconfigured" } as const

export namespace Prompt {
  export interface Accepted {
    session: Session
    user: MessageWithParts
  }

  /**
   * Stores the user message and its parts and announces them; the reply is a separate step. The model is the
   * prompt's, else the agent's, else the session's last, else the config's `model`, else the preferred model of a
   * connected provider: when a reply is asked for, an unknown one is a 400 and nothing is stored. A busy session takes the prompt too: its next turn answers it.
   */
  export async function accept(ports: Ports, sessionID: string, input: PromptInput): Promise<Accepted> {
    const stored = await Sessions.get(ports, sessionID)
    if (input.messageID && (await ports.sessions.message(sessionID, input.messageID))) {
      throw new ConflictError({ message: `Message ${input.messageID} already exists in session ${sessionID}` })
    }
    const config = await Configs.get(ports, stored.directory)
    const agent = Agents.pick(config, input.agent ?? stored.agent)
    const model = await chooseModel(ports, stored, config, input.model ?? agent.model, !input.noReply)
    // A prompt after a revert drops the reverted messages first, as upstream; only once it is accepted, so a refused one keeps them.
    const session = stored.revert ? await SessionRevert.cleanup(ports, stored) : stored
    return storeUserMessage(ports, session, input, agent.name, model)
  }

  /** The named model, else the session's last one, else the default; checked when a reply will need it. */
  export async function chooseModel(ports: Ports, session: Session, config: Config, named: ModelRef | undefined, check: boolean): Promise<ModelRef> {
    const remembered = session.model && { providerID: session.model.providerID, modelID: session.model.id }
    const ref = named ?? remembered ?? (await Providers.defaultModel(ports, session.directory, config))
    if (!ref) return UNCONFIGURED_MODEL
    if (check) await Providers.model(ports, session.directory, ref, config)
    return { providerID: ref.providerID, modelID: ref.modelID }
  }

  async function storeUserMessage(ports: Ports, session: Session, input: PromptInput, agent: string, model: ModelRef): Promise<Accepted> {
    const sessionID = session.id
    const now = ports.clock.now()
    const info: UserMessage = {
      id: input.messageID ?? Identifier.ascending("message", now),
      sessionID,
      role: "user",
      time: { created: now },
      agent,
      model: { ...model, ...(input.variant !== undefined ? { variant: input.variant } : {}) },
      ...(input.format !== undefined ? { format: input.format } : {}),
      ...(input.system !== undefined ? { system: input.system } : {}),
      ...(input.tools !== undefined ? { tools: input.tools } : {}),
    }
    const parts = input.parts.map(
      ({ id, ...part }) => ({ id: id ?? Identifier.ascending("part", now), sessionID, messageID: info.id, ...part }) as Part,
    )
    const touched = { ...session, time: { ...session.time, updated: now } }
    // Both writes at once (a store that commits in groups syncs them together), announced in order after.
    await Promise.all([ports.sessions.put(touched), ports.sessions.putMessage(info, parts)])
    await Bus.publish(ports, session.directory, "session.updated", { sessionID, info: touched })
    await Bus.publish(ports, session.directory, "message.updated", { sessionID, info })
    for (const part of parts) {
      await Bus.publish(ports, session.directory, "message.part.updated", { sessionID, part, time: now })
    }
    return { session: touched, user: { info, parts } }
  }

  /** The assistant message that answers the accepted prompt, once its turn ends (wherever the runtime runs turns). */
  export function reply(ports: Ports, accepted: Accepted): Promise<MessageWithParts> {
    return ports.runner.run(ports, accepted.session.id, accepted.user.info.id)
  }

  /**
   * Stops the session's turn wherever it runs, drops its queued prompts, and leaves the session idle; or stops
   * its shell command on the machine, whose run then records the abort and leaves the session idle itself.
   */
  export async function abort(ports: Ports, sessionID: string): Promise<void> {
    const session = await Sessions.get(ports, sessionID)
    if (await ports.runner.abort(ports, sessionID)) return
    const status = (await ports.sessions.status(session.directory))[sessionID]
    if (!status || status.type === "idle") return
    if (ports.machine && (await ports.machine.shell.abort(sessionID).catch(() => false))) return
    await Sessions.setStatus(ports, session, { type: "idle" })
  }
}
