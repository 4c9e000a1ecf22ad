import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { BadRequestError, ConflictError, MachineUnavailableError, NotFoundError, SessionBusyError } from "../error.ts"
import { CommandInput, InitInput, ShellInput } from "../schema/command.ts"
import { MessageWithParts } from "../schema/message.ts"
import { CommandRun } from "../domain/command-run.ts"
import { ShellRun } from "../domain/shell-run.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const SessionParam = z.object({ sessionID: z.string().startsWith("ses") })

/** `/session/:id/command`, `/shell` and `/init`: commands and shell commands run in a session. */
export function sessionCommandRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .post(
      "/:sessionID/command",
      describeInstanceRoute({
        operationId: "session.command",
        summary: "Run a command (GET /command) as a prompt and wait for the reply",
        description:
          "The template gets the arguments ($ARGUMENTS, $1…$n, the last placeholder taking the rest), each !`cmd` that command's " +
          "output (run on the machine in the session's directory), each @path of the worktree as a file part. The command's " +
          "agent and model win over the request's; a subtask command is sent as a subtask part. Publishes command.executed.",
        responses: {
          200: json("The assistant message that answers it", MessageWithParts),
          ...errors(BadRequestError, NotFoundError, ConflictError, MachineUnavailableError),
        },
      }),
      validate("param", SessionParam),
      validate("json", CommandInput),
      async (c) => c.json(await CommandRun.run(ports, c.req.valid("param").sessionID, c.req.valid("json"))),
    )
    .post(
      "/:sessionID/shell",
      describeInstanceRoute({
        operationId: "session.shell",
        summary: "Run a shell command on the machine, recorded in the session as the user's bash call",
        description:
          "Stores a user message (one synthetic text part), then an assistant message with a bash tool part that ends completed " +
          "with the output (also in metadata.output). Refused while the session is busy.",
        responses: {
          200: json("The assistant message with the bash part", MessageWithParts),
          ...errors(BadRequestError, NotFoundError, SessionBusyError, MachineUnavailableError),
        },
      }),
      validate("param", SessionParam),
      validate("json", ShellInput),
      async (c) => c.json(await ShellRun.run(ports, c.req.valid("param").sessionID, c.req.valid("json"))),
    )
    .post(
      "/:sessionID/init",
      describeInstanceRoute({
        operationId: "session.init",
        summary: "Ask the model to write (or improve) AGENTS.md: the built-in init command, with this model",
        responses: { 200: json("Done", z.boolean()), ...errors(BadRequestError, NotFoundError, ConflictError) },
      }),
      validate("param", SessionParam),
      validate("json", InitInput),
      async (c) => {
        const { providerID, modelID, messageID } = c.req.valid("json")
        await CommandRun.run(ports, c.req.valid("param").sessionID, { command: "init", arguments: "", messageID, model: `${providerID}/${modelID}` })
        return c.json(true)
      },
    )
}
