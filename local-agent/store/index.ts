import { join } from "node:path"
import { DurableLog } from "./log.ts"
import { State, storePorts, type Mutation } from "./state.ts"

/** The local agent's SessionStore and ProjectStore, durable in `<directory>/state.log`. */
export async function openStore(directory: string, options: { compactAfterBytes?: number } = {}) {
  const state = new State()
  const log = await DurableLog.open<Mutation>(join(directory, "state.log"), {
    apply: (mutation) => state.apply(mutation),
    snapshot: () => state.snapshot(),
    ...options,
  })
  return { ...storePorts(state, (mutation) => log.append(mutation)), close: () => log.close() }
}
