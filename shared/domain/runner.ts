import { ProviderAuthError } from "../error.ts"
import { Identifier } from "../id.ts"
import type { Runner } from "../ports.ts"
import type { AssistantMessage } from "../schema/message.ts"
import { Bus } from "./bus.ts"
import { Projects } from "./project.ts"
import { DEFAULT_AGENT, UNCONFIGURED_MODEL } from "./prompt.ts"

/**
 * The runner used until a model provider is configured: it records an assistant message that carries
 * a ProviderAuthError saying so. It never invents text.
 */
export const noProviderRunner: Runner = {
  async run(turn, { ports }) {
    const { session, userMessage } = turn
    const model = userMessage.role === "user" ? userMessage.model : UNCONFIGURED_MODEL
    const agent = userMessage.role === "user" ? userMessage.agent : DEFAULT_AGENT
    const project = await Projects.current(ports, session.directory)
    const now = ports.clock.now()
    const info: AssistantMessage = {
      id: Identifier.ascending("message", now),
      sessionID: session.id,
      role: "assistant",
      time: { created: now, completed: now },
      error: new ProviderAuthError({
        providerID: model.providerID,
        message: "No model provider is configured on this server, so no reply can be generated.",
      }).toObject() as AssistantMessage["error"],
      parentID: userMessage.id,
      modelID: model.modelID,
      providerID: model.providerID,
      mode: agent,
      agent,
      path: { cwd: session.directory, root: project.worktree },
      cost: 0,
      tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
    }
    await ports.sessions.putMessage(info, [])
    await Bus.publish(ports, session.directory, "message.updated", { sessionID: session.id, info })
    return { info, parts: [] }
  },
}
