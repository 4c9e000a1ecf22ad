import type { Ports } from "../ports.ts"
import type { GlobalSession, GlobalSessionListQuery, Session } from "../schema/session.ts"
import { Projects } from "./project.ts"
import { newestFirst } from "./session-filter.ts"
import { Sessions } from "./session.ts"

/** Upstream's page size for the list across projects. */
const DEFAULT_LIMIT = 100

/** Sessions across projects: sessions are kept by directory, so these read every directory this server knows of. */
export namespace GlobalSessions {

  /** The directories that hold sessions, the request's own, and each known project's worktree and sandboxes. */
  export async function directories(ports: Ports, directory: string): Promise<string[]> {
    const [withSessions, projects] = await Promise.all([ports.sessions.directories(), Projects.list(ports)])
    return [...new Set([directory, ...withSessions, ...projects.flatMap((project) => [project.worktree, ...project.sandboxes])])]
  }

  /** Every session in those directories that passes `search` (title, any case). */
  export async function all(ports: Ports, directory: string, search?: string): Promise<Session[]> {
    const lists = await Promise.all((await directories(ports, directory)).map((each) => Sessions.list(ports, each, { search })))
    return lists.flat()
  }

  /**
   * Upstream's `GET /experimental/session`: most recently updated first, archived ones left out unless asked for,
   * each with its project. `nextCursor` (the last one's update time) is there when more follow.
   */
  export async function page(
    ports: Ports,
    directory: string,
    query: GlobalSessionListQuery,
  ): Promise<{ sessions: GlobalSession[]; nextCursor?: number }> {
    const candidates = query.directory === undefined ? await all(ports, directory, query.search) : await Sessions.list(ports, directory, { search: query.search })
    const matching = candidates
      .filter(
        (session) =>
          (!query.roots || !session.parentID) &&
          (query.archived || session.time.archived === undefined) &&
          (query.start === undefined || session.time.updated >= query.start) &&
          (query.cursor === undefined || session.time.updated < query.cursor),
      )
      .sort(newestFirst)
    const limit = query.limit ?? DEFAULT_LIMIT
    const projects = new Map((await Projects.list(ports)).map((project) => [project.id, project]))
    const sessions = matching.slice(0, limit).map((session): GlobalSession => {
      const project = projects.get(session.projectID)
      return { ...session, project: project ? { id: project.id, ...(project.name ? { name: project.name } : {}), worktree: project.worktree } : null }
    })
    return matching.length > limit ? { sessions, nextCursor: sessions.at(-1)!.time.updated } : { sessions }
  }
}
