import type { Runner } from "../ports.ts"
import { AgentLoop } from "./loop.ts"

/** Turns run right here (the local agent's process; the session's Durable Object on the edge). */
export const inProcessRunner: Runner = {
  run: (ports, sessionID, userID) => AgentLoop.run(ports, sessionID, userID),
  abort: async (_ports, sessionID) => AgentLoop.abort(sessionID),
}
