import { z } from "zod"
import { BadRequestError } from "../error.ts"
import { Tokens, type Session } from "../schema/session.ts"
import type { Ports } from "../ports.ts"
import { GlobalSessions } from "./session-global.ts"
import { newestFirst } from "./session-filter.ts"

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

  /**
   * A page of a directory's sessions (`directory`), else of every directory this server knows of (`requestDirectory`
   * among them). Each store orders by update time and stops at the page's end; across directories each gives its
   * first `offset + limit + 1` and the merge is cut to the page. The extra one tells whether a next page exists.
   */
  export async function page(ports: Ports, directory: string | undefined, requestDirectory: string, query: SessionPageQuery): Promise<z.infer<typeof SessionsResponse>> {
    const start = query.cursor === undefined ? 0 : offsetOf(query.cursor)
    const limit = query.limit ?? 50
    const order = query.order ?? "desc"
    const filter = { search: query.search, byUpdate: order }
    let sessions: Session[]
    if (directory !== undefined) sessions = await ports.sessions.list(directory, { ...filter, offset: start, limit: limit + 1 })
    else {
      const directories = await GlobalSessions.directories(ports, requestDirectory)
      const lists = await Promise.all(directories.map((each) => ports.sessions.list(each, { ...filter, limit: start + limit + 1 })))
      sessions = lists.flat().sort(order === "desc" ? newestFirst : (a, b) => newestFirst(b, a)).slice(start, start + limit + 1)
    }
    const cursor: { previous?: string; next?: string } = {}
    if (start > 0) cursor.previous = cursorOf(Math.max(0, start - limit))
    if (sessions.length > limit) cursor.next = cursorOf(start + limit)
    return { data: sessions.slice(0, limit).map(info), cursor }
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
