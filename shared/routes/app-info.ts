import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { PayloadTooLargeError } from "../error.ts"
import { Agent, Command, FormatterStatus, LogInput } from "../schema/app-info.ts"
import { Agents } from "../domain/agent.ts"
import { Commands } from "../domain/command.ts"
import { Bus } from "../domain/bus.ts"
import { Skills } from "../domain/skill.ts"
import { Skill } from "../schema/skill.ts"
import { Permissions, Questions } from "../domain/questions.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"
import { CONFIG_FILE_ERRORS } from "../config/errors.ts"

/** `/agent`, `/skill`, `/command`, `/formatter`, `/log` and `/instance/dispose`. */
export function appInfoRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/agent",
      describeInstanceRoute({
        operationId: "app.agents",
        summary: "The agents: built-in build, plan and general, then those of the config's agent section",
        responses: { 200: json("Agents", z.array(Agent)), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Agents.list(ports, c.var.directory)),
    )
    .get(
      "/skill",
      describeInstanceRoute({
        operationId: "app.skills",
        summary: "The skills: upstream's built-in one, then the SKILL.md files found on the machine (none without a machine)",
        responses: { 200: json("Skills", z.array(Skill)), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Skills.list(ports, c.var.directory)),
    )
    .get(
      "/command",
      describeInstanceRoute({
        operationId: "command.list",
        summary: "The commands: the built-ins (init, review), the config's command section and command files, the MCP servers' prompts, then the skills",
        responses: { 200: json("Commands", z.array(Command)), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Commands.list(ports, c.var.directory)),
    )
    .get(
      "/formatter",
      describeInstanceRoute({
        operationId: "formatter.status",
        summary: "Formatters and whether they are enabled (none are run by this server yet)",
        responses: { 200: json("Formatters", z.array(FormatterStatus)) },
      }),
      (c) => c.json([]),
    )
    .post(
      "/log",
      describeInstanceRoute({
        operationId: "app.log",
        summary: "Write a client's log entry to the server log",
        description: "`debug` entries are logged at info level with `level: \"debug\"` in their fields.",
        responses: { 200: json("Logged", z.boolean()), ...errors(PayloadTooLargeError) },
      }),
      validate("json", LogInput),
      (c) => {
        const { service, level, message, extra } = c.req.valid("json")
        const fields = { ...extra, service, level }
        if (level === "debug") ports.log.info(message, fields)
        else ports.log[level](message, fields)
        return c.json(true)
      },
    )
    .post(
      "/instance/dispose",
      describeInstanceRoute({
        operationId: "instance.dispose",
        summary: "Dispose of the directory's instance; publishes server.instance.disposed",
        description:
          "Withdraws the directory's pending questions and permission requests first: each gets `question.rejected` or " +
          "`permission.replied` (`reject`) with `disposed: true`, and whoever asked stops waiting with RequestDisposedError.",
        responses: { 200: json("Disposed", z.boolean()) },
      }),
      async (c) => {
        await Questions.dispose(ports, c.var.directory)
        await Permissions.dispose(ports, c.var.directory)
        await Bus.publish(ports, c.var.directory, "server.instance.disposed", { directory: c.var.directory })
        return c.json(true)
      },
    )
}
