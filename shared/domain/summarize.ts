import type { Ports } from "../ports.ts"
import { Providers } from "../provider/provider.ts"
import type { SummarizeInput } from "../schema/summarize.ts"
import { Compaction } from "../turn/compaction.ts"
import { Agents } from "./agent.ts"
import { Configs } from "./config.ts"
import { SessionRevert } from "./revert.ts"
import { Sessions } from "./session.ts"

/**
 * `POST /session/:id/summarize`, as upstream: a pending revert is made final first (the reverted messages go, as
 * before a prompt), then a compaction message (agent of the last prompt) that the session's next turn answers with
 * a summary; resolves once the loop is done. A busy session takes it after its turn.
 */
export async function summarizeSession(ports: Ports, sessionID: string, input: SummarizeInput): Promise<void> {
  const stored = await Sessions.get(ports, sessionID)
  const config = await Configs.get(ports, stored.directory)
  const model = { providerID: input.providerID, modelID: input.modelID }
  await Providers.model(ports, stored.directory, model, config)
  // only once the model is known: a refused summary keeps the pending revert
  const session = await SessionRevert.cleanup(ports, stored)
  const lastPrompt = (await ports.sessions.messages(sessionID, {})).findLast((entry) => entry.info.role === "user")
  const agent = lastPrompt?.info.role === "user" ? lastPrompt.info.agent : Agents.pick(config, undefined).name
  const compaction = await Compaction.request(ports, session, { agent, model, auto: input.auto ?? false })
  await ports.runner.run(ports, sessionID, compaction.info.id)
}
