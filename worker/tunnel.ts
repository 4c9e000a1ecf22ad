import { UnauthorizedError } from "../shared/error.ts"
import type { Env } from "./env.ts"
import { machineObjectName } from "./names.ts"
import type { Tenancy } from "./tenancy.ts"

/** `GET /edge/tunnel`: a machine's agent dials in with its secret; its tenant's MachineObject takes the socket. */
export async function acceptTunnel(request: Request, env: Env, tenancy: Tenancy): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    return new Response("The tunnel is a WebSocket", { status: 426 })
  }
  const secret = request.headers.get("Authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1]
  const machine = secret ? await tenancy.machine(secret) : undefined
  if (!machine) {
    const error = new UnauthorizedError({ message: "The tunnel needs a valid machine secret (Authorization: Bearer <secret>)" })
    return Response.json(error.toObject(), { status: 401 })
  }
  const object = env.MACHINES.getByName(machineObjectName(machine.tenant))
  return object.fetch(`https://machine/connect?tenant=${encodeURIComponent(machine.tenant)}`, { headers: { Upgrade: "websocket" } })
}
