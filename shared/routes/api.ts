import { Hono, type Context } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { Path } from "../path.ts"
import { Projects } from "../domain/project.ts"
import { Agents, Commands } from "../domain/agent.ts"
import { AgentV2Info, CommandV2Info } from "../schema/app-info.ts"
import { ModelV2Info, ProviderV2Info } from "../schema/config.ts"
import { Providers } from "../provider/provider.ts"
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
  /** `GET /api/<name>`: `{location, data}` with what `load` lists, each item as `item` describes it. */
  function list(name: string, summary: string, item: z.ZodType, load: (directory: string) => Promise<unknown[]>) {
    app.get(
      `/${name}`,
      describeInstanceRoute({
        operationId: `v2.${name}.list`,
        summary,
        responses: { 200: json(`The location and its ${name}s`, z.object({ location: LocationInfo, data: z.array(item) })) },
      }),
      async (c) => {
        const where = await location(c)
        return c.json({ location: where, data: await load(where.directory) })
      },
    )
  }

  list("agent", "The agents (as GET /agent lists them) in the v2 shape", AgentV2Info, async () => (await Agents.list(ports)).map(Agents.toV2))
  list("command", "The commands (as GET /command lists them) in the v2 shape", CommandV2Info, async () =>
    (await Commands.list(ports)).map(Commands.toV2),
  )
  list("provider", "The providers (as GET /provider lists them) in the v2 shape", ProviderV2Info, async (directory) =>
    (await Providers.list(ports, directory)).providers.map(ProviderV2.provider),
  )
  list("model", "The models of every provider (as GET /provider lists them) in the v2 shape", ModelV2Info, async (directory) =>
    (await Providers.list(ports, directory)).providers.flatMap((provider) => Object.values(provider.models).map(ProviderV2.model)),
  )
  // Things this server does not have yet: the truthful answer is an empty list.
  for (const name of ["skill", "reference", "integration"]) {
    list(name, `The ${name}s of the location (none on this server yet)`, z.unknown(), async () => [])
  }
  return app
}
