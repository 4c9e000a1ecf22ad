import { Hono, type Context } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { Path } from "../path.ts"
import { Projects } from "../domain/project.ts"
import { Agents, Commands } from "../domain/agent.ts"
import { AgentV2Info, CommandV2Info } from "../schema/app-info.ts"
import { ModelV2Info, ProviderV2Info } from "../schema/config.ts"
import { providers } from "../domain/config.ts"
import { ProviderV2 } from "../domain/provider-v2.ts"
import { describeInstanceRoute, json } from "../openapi.ts"

const LocationInfo = z
  .object({
    directory: z.string(),
    workspaceID: z.string().optional(),
    project: z.object({ id: z.string(), directory: z.string() }),
  })
  .meta({ ref: "LocationInfo" })

/** The newer `/api/*` surface the terminal client reads at start; lists answer `{location, data}`. */
export function apiRoutes(ports: Ports) {
  /** `?location[directory]=` as the v2 client sends it, else the request's directory. */
  async function location(c: Context<AppEnv>) {
    const raw = c.req.query("location[directory]")
    const directory = raw && Path.isAbsolute(raw) ? Path.normalize(raw) : c.var.directory
    const project = await Projects.current(ports, directory)
    return { directory, project: { id: project.id, directory: project.worktree } }
  }

  const app = new Hono<AppEnv>().get(
    "/location",
    describeInstanceRoute({
      operationId: "v2.location.get",
      summary: "Where a request is served: directory and project",
      responses: { 200: json("Location", LocationInfo) },
    }),
    async (c) => c.json(await location(c)),
  )
  app.get(
    "/agent",
    describeInstanceRoute({
      operationId: "v2.agent.list",
      summary: "The agents (as GET /agent lists them) in the v2 shape",
      responses: { 200: json("The location and its agents", z.object({ location: LocationInfo, data: z.array(AgentV2Info) })) },
    }),
    async (c) => c.json({ location: await location(c), data: (await Agents.list(ports)).map(Agents.toV2) }),
  )
  app.get(
    "/command",
    describeInstanceRoute({
      operationId: "v2.command.list",
      summary: "The commands (as GET /command lists them) in the v2 shape",
      responses: { 200: json("The location and its commands", z.object({ location: LocationInfo, data: z.array(CommandV2Info) })) },
    }),
    async (c) => c.json({ location: await location(c), data: (await Commands.list(ports)).map(Commands.toV2) }),
  )
  app.get(
    "/provider",
    describeInstanceRoute({
      operationId: "v2.provider.list",
      summary: "The providers (as GET /provider lists them) in the v2 shape",
      responses: { 200: json("The location and its providers", z.object({ location: LocationInfo, data: z.array(ProviderV2Info) })) },
    }),
    async (c) => c.json({ location: await location(c), data: (await providers(ports)).providers.map(ProviderV2.provider) }),
  )
  app.get(
    "/model",
    describeInstanceRoute({
      operationId: "v2.model.list",
      summary: "The models of every provider (as GET /provider lists them) in the v2 shape",
      responses: { 200: json("The location and its models", z.object({ location: LocationInfo, data: z.array(ModelV2Info) })) },
    }),
    async (c) => {
      const models = (await providers(ports)).providers.flatMap((provider) => Object.values(provider.models).map(ProviderV2.model))
      return c.json({ location: await location(c), data: models })
    },
  )
  // Lists of things this server does not have yet: the truthful answer is an empty list.
  for (const [path, what] of [
    ["/skill", "skills"],
    ["/reference", "references"],
    ["/integration", "integrations"],
  ] as const) {
    app.get(
      path,
      describeInstanceRoute({
        operationId: `v2.${path.slice(1)}.list`,
        summary: `The ${what} of the location (none on this server yet)`,
        responses: { 200: json(`The location and its ${what}`, z.object({ location: LocationInfo, data: z.array(z.unknown()) })) },
      }),
      async (c) => c.json({ location: await location(c), data: [] }),
    )
  }
  return app
}
