import type { Machine } from "../shared/machine.ts"
import type { KeyValueStore, ProjectIdentity } from "../shared/ports.ts"

const GLOBAL: ProjectIdentity = { id: "global", worktree: "/" }

/**
 * The edge names a directory's project as its machine does (the git root commit), asking through the tunnel
 * once and remembering the answer in the tenant's records, so the project stays the same while the machine
 * is away. Without a machine (or when it cannot answer) a directory is in the global project, not remembered:
 * the machine names it once it connects.
 */
export function rememberedProjectResolver(records: KeyValueStore, machine: Machine) {
  return async (directory: string): Promise<ProjectIdentity> => {
    const key = `project-of/${directory}`
    const known = await records.get<ProjectIdentity>(key)
    if (known) return known
    if (!(await machine.connected())) return GLOBAL
    const identity = await machine.vcs.project(directory).catch(() => undefined)
    if (!identity) return GLOBAL
    await records.put(key, identity)
    return identity
  }
}
