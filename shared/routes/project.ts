import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { NotFoundError } from "../error.ts"
import { Project, ProjectUpdateInput } from "../schema/project.ts"
import { Projects } from "../domain/project.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

export function projectRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/",
      describeInstanceRoute({
        operationId: "project.list",
        summary: "List projects",
        responses: { 200: json("Projects", z.array(Project)) },
      }),
      async (c) => c.json(await Projects.list(ports)),
    )
    .get(
      "/current",
      describeInstanceRoute({
        operationId: "project.current",
        summary: "The project of the request's directory",
        responses: { 200: json("Current project", Project) },
      }),
      async (c) => c.json(await Projects.current(ports, c.var.directory)),
    )
    .patch(
      "/:projectID",
      describeInstanceRoute({
        operationId: "project.update",
        summary: "Rename a project or change its icon",
        responses: { 200: json("Updated project", Project), ...errors(NotFoundError) },
      }),
      validate("param", z.object({ projectID: z.string().min(1) })),
      validate("json", ProjectUpdateInput),
      async (c) => c.json(await Projects.update(ports, c.req.valid("param").projectID, c.req.valid("json"))),
    )
}
