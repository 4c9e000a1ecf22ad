import type { Hono } from "hono"

/**
 * Who is asking, on the edge. Machines register and get a secret; pairing gives a web client a token bound to
 * that machine's tenant. Secrets and tokens are random (>= 128 bits), stored hashed, revocable. Everything a
 * client does is scoped to its tenant: Durable Object names carry it (worker/names.ts).
 */
export interface Tenancy {
  /** The edge's own routes: machine registration, pairing, revocation (not part of the OpenCode API). */
  routes: Hono
  /** The tenant of a client request (its token), or undefined when it has no valid one. */
  clientTenant(request: Request): Promise<string | undefined>
  /** The tenant and machine of a machine secret (the tunnel's credential), or undefined. */
  machine(secret: string): Promise<{ tenant: string; machineID: string } | undefined>
}
