import { MachineUnavailableError } from "../error.ts"
import type { Ports } from "../ports.ts"
import type { Config } from "../schema/config.ts"
import type { SnapshotPatch } from "../schema/snapshot.ts"

/**
 * Snapshots around agent steps, taken on the machine. Without a machine (an edge with none paired), with
 * `snapshot: false` in the config, or when the machine fails, none is taken: parts then carry no `snapshot`, as
 * upstream's do when snapshots are off. A turn never fails for want of one.
 */
export namespace Snapshots {
  export async function track(ports: Ports, directory: string, config: Config): Promise<string | undefined> {
    if (!ports.machine || config.snapshot === false) return undefined
    try {
      return await ports.machine.snapshot.track(directory)
    } catch (error) {
      // An edge whose machine is away: no snapshot, as when none is paired; anything else is worth a line.
      if (!(error instanceof MachineUnavailableError)) ports.log.warn("snapshot failed", { directory, error: error instanceof Error ? error.message : String(error) })
      return undefined
    }
  }

  /** The files changed from the snapshot `from` to `to`; undefined when none did (or none can be told). */
  export async function patch(ports: Ports, directory: string, from: string | undefined, to: string | undefined): Promise<SnapshotPatch | undefined> {
    if (!ports.machine || !from || !to || from === to) return undefined
    try {
      const patch = await ports.machine.snapshot.patch(directory, from, to)
      return patch.files.length ? patch : undefined
    } catch (error) {
      ports.log.warn("snapshot patch failed", { directory, error: error instanceof Error ? error.message : String(error) })
      return undefined
    }
  }
}
