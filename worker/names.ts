import { streamName } from "../shared/event/routing.ts"
import type { StreamKey } from "../shared/ports.ts"

/**
 * Durable Object names: `<tenant>/<stream name>`. Every object a request touches is named within its
 * tenant, so tenants (a later issue) are added by choosing the tenant, without renaming any object.
 */
export const DEFAULT_TENANT = "default"

export function objectName(tenant: string, key: StreamKey): string {
  return `${tenant}/${streamName(key)}`
}

/** A tenant's machine: the object that holds its tunnel. */
export function machineObjectName(tenant: string): string {
  return `${tenant}/machine`
}

/** The tenant of an object named by objectName (tenants hold no `/`). */
export function tenantOfObject(name: string): string | undefined {
  const slash = name.indexOf("/")
  return slash > 0 ? name.slice(0, slash) : undefined
}
