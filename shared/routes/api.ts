import { Hono, type Context } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { Path } from "../path.ts"
import { Projects } from "../domain/project.ts"
import { Agents } from "../domain/agent.ts"
import { Commands } from "../domain/command.ts"
import { AgentV2Info, CommandV2Info } from "../schema/app-info.ts"
import { ModelV2Info, ProviderV2Info } from "../schema/config.ts"
import { Providers } from "../provider/provider.ts"
import { ProviderV2 } from "../domain/provider-v2.ts"
import { Skills } from "../domain/skill.ts"
import { SkillV2Info } from "../schema/skill.ts"
import { SessionPageQuery, SessionsResponse, SessionsV2 } from "../domain/session-v2.ts"
import { BadRequestError } from "../error.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"
import type { ErrorClass } from "../error.ts"
import { CONFIG_FILE_ERRORS } from "../config/errors.ts"

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
  /**
   * `GET /api/<name>`: `{location, data}` with what `load` lists for the location's directory, each item as `item`
   * describes it; `failures` are the errors `load` may answer.
   */
  function list(
    name: string,
    summary: string,
    item: z.ZodType,
    load: (directory: string) => Promise<unknown[]>,
    failures: readonly ErrorClass[] = [],
  ) {
    app.get(
      `/${name}`,
      describeInstanceRoute({
        operationId: `v2.${name}.list`,
        summary,
        responses: {
          200: json(`The location and its ${name}s`, z.object({ location: LocationInfo, data: z.array(item) })),
          ...errors(...failures),
        },
      }),
      async (c) => {
        const where = await location(c)
        return c.json({ location: where, data: await load(where.directory) })
      },
    )
  }

  list(
    "agent",
    "The agents (as GET /agent lists them) in the v2 shape",
    AgentV2Info,
    async (directory) => (await Agents.list(ports, directory)).map(Agents.toV2),
    CONFIG_FILE_ERRORS,
  )
  list(
    "command",
    "The commands (as GET /command lists them, skills left out) in the v2 shape",
    CommandV2Info,
    async (directory) => Commands.listV2(ports, directory),
    CONFIG_FILE_ERRORS,
  )
  list(
    "provider",
    "The connected providers (as GET /config/providers lists them) in the v2 shape",
    ProviderV2Info,
    async (directory) => (await Providers.available(ports, directory)).providers.map(ProviderV2.provider),
    CONFIG_FILE_ERRORS,
  )
  list(
    "model",
    "The models of the connected providers (as GET /config/providers lists them) in the v2 shape",
    ModelV2Info,
    async (directory) => (await Providers.available(ports, directory)).providers.flatMap((provider) => Object.values(provider.models).map(ProviderV2.model)),
    CONFIG_FILE_ERRORS,
  )
  app.get(
    "/health",
    describeInstanceRoute({
      operationId: "v2.health.get",
      summary: "Whether the server is ready to accept requests",
      responses: { 200: json("Ready", z.object({ healthy: z.literal(true) })) },
    }),
    (c) => c.json({ healthy: true as const }),
  )
  app.get(
    "/session",
    describeInstanceRoute({
      operationId: "v2.session.list",
      summary: "Sessions in the v2 shape, newest first by default: a directory's (`?directory=`), else those of every directory this server knows of",
      description: "Paged by `limit` and the opaque `cursor.next` / `cursor.previous` of the previous answer.",
      responses: { 200: json("Sessions", SessionsResponse), ...errors(BadRequestError) },
    }),
    validate("query", SessionPageQuery),
    async (c) => {
      const query = c.req.valid("query")
      const named = query.directory && Path.isAbsolute(query.directory) ? Path.normalize(query.directory) : undefined
      // The app's home screen asks for everything: every directory this server knows of.
      return c.json(await SessionsV2.page(ports, named, c.var.directory, query))
    },
  )
  // Things this server does not have yet: the truthful answer is an empty list.
  list("skill", "The skills of the config folders and `skills.paths` (as upstream's v2 lists them) in the v2 shape", SkillV2Info, (directory) => Skills.listV2(ports, directory), CONFIG_FILE_ERRORS)
  for (const name of ["reference", "integration"]) {
    list(name, `The ${name}s of the location (none on this server yet)`, z.unknown(), async () => [])
  }
  return app
}
