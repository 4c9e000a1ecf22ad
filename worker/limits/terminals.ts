import type { Machine } from "../../shared/machine.ts"
import type { GlobalObject } from "../objects/global.ts"
import { TooManyTerminalsError } from "./errors.ts"

/** How long a terminal's place is held while the machine starts it. */
const STARTING_LEASE_MS = 30_000

/**
 * The machine, with the tenant's terminal limit on `pty.create`. A terminal holds a lease from its start until
 * it is removed; one that ended on the machine by itself (its shell exited, the machine restarted) keeps its
 * lease until the limit is reached, when every lease is checked against the machine and the gone ones dropped.
 */
export function limitTerminals(machine: Machine, global: () => DurableObjectStub<GlobalObject>, limit: number): Machine {
  const { pty } = machine

  async function dropEnded(): Promise<void> {
    const held = await global().heldLeases("terminal")
    const alive = await Promise.all(held.map((id) => pty.get(id).then((info) => info !== undefined, () => true)))
    await Promise.all(held.filter((_, index) => !alive[index]).map((id) => global().releaseLease("terminal", id)))
  }

  async function reserve(): Promise<string> {
    const placeholder = `starting:${crypto.randomUUID()}`
    let lease = await global().acquireLease("terminal", placeholder, limit, STARTING_LEASE_MS)
    if (!lease.ok) {
      await dropEnded()
      lease = await global().acquireLease("terminal", placeholder, limit, STARTING_LEASE_MS)
    }
    if (!lease.ok) throw new TooManyTerminalsError({ message: `${limit} terminals are open; close one first`, limit })
    return placeholder
  }

  return {
    ...machine,
    pty: {
      ...pty,
      async create(directory, input) {
        const placeholder = await reserve()
        try {
          const created = await pty.create(directory, input)
          await global().renewLease("terminal", created.id)
          return created
        } finally {
          await global().releaseLease("terminal", placeholder)
        }
      },
      async remove(ptyID) {
        const removed = await pty.remove(ptyID)
        await global().releaseLease("terminal", ptyID)
        return removed
      },
    },
  }
}
