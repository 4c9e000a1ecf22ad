import { Hono } from "hono"
import type { AppEnv } from "../shared/env.ts"
import type { Machine } from "../shared/machine.ts"
import { CONFIG_SOURCES_PATH, INSTRUCTIONS_PATH } from "../shared/config/source.ts"
import { SKILL_FILES_PATH } from "../shared/schema/skill.ts"
import { RELAY_PATH, RelayRequestSchema } from "../shared/relay.ts"
import { validate } from "../shared/openapi.ts"
import { snapshotRoutes } from "./snapshot-routes.ts"
import { SHELL_RUN_PATHS, ShellAbortInput, ShellRunInput } from "../shared/schema/shell-run.ts"
import { MCP_MACHINE_PATH, McpMachineInput } from "../shared/mcp/schema.ts"

/**
 * Routes only the local agent serves: what the edge's remote machine asks this machine for through the tunnel
 * and the OpenCode API has no route for. The edge's own app never mounts them, so none of its clients can call
 * them; the tunnel sends only requests the edge itself makes.
 */
export function machineRoutes(machine: Machine) {
  return new Hono<AppEnv>()
    .get(CONFIG_SOURCES_PATH, async (c) => c.json(await machine.config.sources(c.var.directory)))
    .get(INSTRUCTIONS_PATH, async (c) => c.json(await machine.config.instructions(c.var.directory, c.req.queries("path") ?? [])))
    .get(SKILL_FILES_PATH, async (c) => c.json(await machine.skills.find(c.var.directory, c.req.queries("path") ?? [], c.req.queries("url") ?? [])))
    .post(RELAY_PATH, validate("json", RelayRequestSchema), async (c) => {
      const answer = await machine.relay.fetch(c.req.valid("json"))
      // The body streams through as the provider sends it; hop-by-hop and length headers are the tunnel's own.
      const headers = new Headers(answer.headers)
      for (const name of ["content-length", "content-encoding", "transfer-encoding", "connection"]) headers.delete(name)
      return new Response(answer.body, { status: answer.status, headers })
    })
    .route("/", snapshotRoutes(machine))
    .post(SHELL_RUN_PATHS.run, validate("json", ShellRunInput), async (c) => c.json(await machine.shell.run(c.var.directory, c.req.valid("json"))))
    .post(SHELL_RUN_PATHS.abort, validate("json", ShellAbortInput), async (c) => c.json({ aborted: await machine.shell.abort(c.req.valid("json").runID) }))
    .post(`${MCP_MACHINE_PATH}/status`, validate("json", McpMachineInput.servers), async (c) =>
      c.json(await machine.mcp.status(c.var.directory, c.req.valid("json").servers)),
    )
    .post(`${MCP_MACHINE_PATH}/tools`, validate("json", McpMachineInput.servers), async (c) =>
      c.json(await machine.mcp.tools(c.var.directory, c.req.valid("json").servers)),
    )
    .post(`${MCP_MACHINE_PATH}/prompts`, validate("json", McpMachineInput.servers), async (c) =>
      c.json(await machine.mcp.prompts(c.var.directory, c.req.valid("json").servers)),
    )
    .post(`${MCP_MACHINE_PATH}/resources`, validate("json", McpMachineInput.servers), async (c) =>
      c.json(await machine.mcp.resources(c.var.directory, c.req.valid("json").servers)),
    )
    .post(`${MCP_MACHINE_PATH}/prompt`, validate("json", McpMachineInput.prompt), async (c) => {
      const { name, config, prompt, args } = c.req.valid("json")
      return c.json(await machine.mcp.prompt(c.var.directory, name, config, prompt, args))
    })
    .post(`${MCP_MACHINE_PATH}/call`, validate("json", McpMachineInput.call), async (c) => {
      const { name, config, tool, args } = c.req.valid("json")
      return c.json(await machine.mcp.call(c.var.directory, name, config, tool, args))
    })
    .post(`${MCP_MACHINE_PATH}/connect`, validate("json", McpMachineInput.server), async (c) => {
      const { name, config } = c.req.valid("json")
      return c.json(await machine.mcp.connect(c.var.directory, name, config))
    })
    .post(`${MCP_MACHINE_PATH}/disconnect`, validate("json", McpMachineInput.disconnect), async (c) => {
      await machine.mcp.disconnect(c.var.directory, c.req.valid("json").name)
      return c.json(true)
    })
}
