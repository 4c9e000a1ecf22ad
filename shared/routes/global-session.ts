import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { BadRequestError } from "../error.ts"
import { Path } from "../path.ts"
import { Projects } from "../domain/project.ts"
import { Sessions } from "../domain/session.ts"
import { GlobalSession, GlobalSessionListQuery } from "../schema/session.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

/** `GET /experimental/session`: what the web app's search (its file and command palette) finds sessions with. */
export function globalSessionRoutes(ports: Ports) {
  return new Hono<AppEnv>().get(
    "/experimental/session",
    describeInstanceRoute({
      operationId: "experimental.session.list",
      summary: "Sessions of every known project, each with its project, newest update first",
      description:
        "Archived sessions only with `archived=true`. When more match than `limit`, the `x-next-cursor` header is the " +
        "last one's update time: pass it as `cursor` for the next page. Sessions are found in the request's directory " +
        "and in each known project's worktree.",
      responses: {
        200: { ...json("Sessions", z.array(GlobalSession)), headers: { "x-next-cursor": { description: "The cursor of the next page, when there is one", schema: { type: "string" } } } },
        ...errors(BadRequestError),
      },
    }),
    validate("query", GlobalSessionListQuery),
    async (c) => {
      const { roots, start, search, limit, cursor, archived } = c.req.valid("query")
      const projects = await Projects.list(ports)
      const directories = [...new Set([c.var.directory, ...projects.map((project) => project.worktree)].map(Path.normalize))]
      const lists = await Promise.all(directories.map((directory) => Sessions.list(ports, directory, { roots, start, search })))
      const matching = lists
        .flat()
        .filter((session) => (archived || session.time.archived === undefined) && (cursor === undefined || session.time.updated < cursor))
        .sort((a, b) => b.time.updated - a.time.updated)
      const page = limit === undefined ? matching : matching.slice(0, limit)
      if (page.length < matching.length) c.header("x-next-cursor", String(page.at(-1)!.time.updated))
      const byID = new Map(projects.map((project) => [project.id, project]))
      return c.json(
        page.map((session) => {
          const project = byID.get(session.projectID)
          return { ...session, project: project ? { id: project.id, ...(project.name ? { name: project.name } : {}), worktree: project.worktree } : null }
        }),
      )
    },
  )
}
