import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { MachineUnavailableError, NotFoundError } from "../error.ts"
import { requireMachine } from "../machine.ts"
import { machineRequired } from "../middleware/machine.ts"
import { LspStatus, Symbol } from "../schema/machine.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const SymbolQuery = z.object({ query: z.string().describe("Symbol name or a part of it") })

/**
 * Language servers of the machine (upstream's `GET /lsp` and `GET /find/symbol`). Mounted at the root.
 * A server starts when a file of its language is read (`GET /file/content`), which also opens the file in
 * it: its diagnostics then arrive as `lsp.client.diagnostics` events. On the edge: 503 MachineUnavailable.
 */
export function lspRoutes(ports: Ports) {
  const machine = machineRequired(ports)
  const lsp = () => requireMachine(ports).lsp

  return new Hono<AppEnv>()
    .get(
      "/lsp",
      describeInstanceRoute({
        operationId: "lsp.status",
        summary: "Language servers started for the directory (root relative to it)",
        responses: { 200: json("Language servers", z.array(LspStatus)), ...errors(MachineUnavailableError) },
      }),
      machine,
      async (c) => c.json(await lsp().status(c.var.directory)),
    )
    .get(
      "/find/symbol",
      describeInstanceRoute({
        operationId: "find.symbols",
        summary: "Workspace symbols from the directory's running language servers",
        responses: {
          200: json("Symbols", z.array(Symbol)),
          ...errors(NotFoundError, MachineUnavailableError),
        },
      }),
      machine,
      validate("query", SymbolQuery),
      async (c) => c.json(await lsp().symbols(c.var.directory, c.req.valid("query").query)),
    )
}
