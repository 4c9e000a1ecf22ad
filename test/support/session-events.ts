import { mkdirSync } from "node:fs"
import { api } from "./http.ts"
import { connect } from "./sse.ts"
import { uniqueDirectory, type Target } from "./targets.ts"

/** A new session in a fresh directory (added to `made`, for the caller to remove), with that directory's `/event` stream open. */
export async function sessionWithEvents(t: Target, label: string, made: string[], body: Record<string, unknown> = {}) {
  const directory = uniqueDirectory(label)
  mkdirSync(directory, { recursive: true })
  made.push(directory)
  const session = (await api(t, "POST", "/session", { directory, body })).json
  const stream = await connect(`${t.url}/event?directory=${encodeURIComponent(directory)}`, { headers: t.authHeaders })
  return { directory, session, stream }
}
