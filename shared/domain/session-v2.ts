import { z } from "zod"
import { BadRequestError } from "../error.ts"
import { Tokens, type Session } from "../schema/session.ts"
import { GlobalSessions } from "./session-global.ts"

/** `GET /api/session`'s query (v2 SDK `V2SessionListData`); `workspace`, `project` and `subpath` are accepted and ignored. */
export const SessionPageQuery = z.object({
  limit: z.coerce.number().int().positive().max(10_000).optional(),
  order: z.enum(["asc", "desc"]).optional(),
  search: z.string().optional(),
  directory: z.string().optional(),
  cursor: z.string().max(200).optional(),
  workspace: z.string().optional(),
  project: z.string().optional(),
  subpath: z.string().optional(),
})
export type SessionPageQuery = z.infer<typeof SessionPageQuery>


/** The v2 SDK's `SessionV2Info`. */
export const SessionV2Info = z
  .object({
    id: z.string(),
    parentID: z.string().optional(),
    projectID: z.string(),
    agent: z.string().optional(),
    model: z.object({ id: z.string(), providerID: z.string(), variant: z.string().optional() }).optional(),
    cost: z.number(),
    tokens: Tokens,
    time: z.object({ created: z.number(), updated: z.number(), archived: z.number().optional() }),
    title: z.string(),
    location: z.object({ directory: z.string(), workspaceID: z.string().optional() }),
    subpath: z.string().optional(),
  })
  .meta({ ref: "SessionV2Info" })

export const SessionsResponse = z
  .object({ data: z.array(SessionV2Info), cursor: z.object({ previous: z.string().optional(), next: z.string().optional() }) })
  .meta({ ref: "SessionsResponse" })

/** Sessions in the v2 shape, paged with opaque cursors (the offset into the ordered list). */
export namespace SessionsV2 {
  export function info(session: Session): z.infer<typeof SessionV2Info> {
    const { tokens } = session
    return {
      id: session.id,
      ...(session.parentID ? { parentID: session.parentID } : {}),
      projectID: session.projectID,
      ...(session.agent ? { agent: session.agent } : {}),
      ...(session.model ? { model: session.model } : {}),
      cost: session.cost ?? 0,
      tokens: tokens ? { input: tokens.input, output: tokens.output, reasoning: tokens.reasoning, cache: tokens.cache } : { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
      time: session.time,
      title: session.title,
      location: { directory: session.directory, ...(session.workspaceID ? { workspaceID: session.workspaceID } : {}) },
      ...(session.path ? { subpath: session.path } : {}),
    }
  }

  export function page(sessions: Session[], query: SessionPageQuery): z.infer<typeof SessionsResponse> {
    const { newestFirst } = GlobalSessions
    const ordered = [...sessions].sort((a, b) => (query.order === "asc" ? newestFirst(b, a) : newestFirst(a, b)))
    const start = query.cursor === undefined ? 0 : offsetOf(query.cursor)
    const limit = query.limit ?? 50
    const data = ordered.slice(start, start + limit).map(info)
    const cursor: { previous?: string; next?: string } = {}
    if (start > 0) cursor.previous = cursorOf(Math.max(0, start - limit))
    if (start + limit < ordered.length) cursor.next = cursorOf(start + limit)
    return { data, cursor }
  }

  const cursorOf = (offset: number) => btoa(`o:${offset}`)

  function offsetOf(cursor: string): number {
    let decoded = ""
    try {
      decoded = atob(cursor)
    } catch {
      // not base64: reported below
    }
    const offset = /^o:(\d{1,9})$/.exec(decoded)?.[1]
    if (offset === undefined) throw new BadRequestError({ message: `Invalid cursor: ${cursor}`, kind: "Query" })
    return Number(offset)
  }
}
