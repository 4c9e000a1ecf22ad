import type { MiddlewareHandler } from "hono"
import type { AppEnv } from "../env.ts"
import { machineUnavailable, requireMachine } from "../machine.ts"
import type { Ports } from "../ports.ts"

/** Answers 503 MachineUnavailable before anything else (validation included) when no machine is connected. */
export function machineRequired(ports: Ports): MiddlewareHandler<AppEnv> {
  return async (_c, next) => {
    if (!(await requireMachine(ports).connected())) throw machineUnavailable()
    await next()
  }
}
