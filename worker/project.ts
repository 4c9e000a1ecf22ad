import type { Machine } from "../shared/machine.ts"
import type { KeyValueStore, ProjectIdentity } from "../shared/ports.ts"

const GLOBAL: ProjectIdentity = { id: "global", worktree: "/" }

/**
 * The edge names a directory's project as its machine does (the git root commit), asking through the tunnel
 * and remembering a git project in the tenant's records, so it stays the same while the machine is away.
 * "Not in git" is not remembered: a later `git init` and first commit are seen. Without a machine a directory
 * is in the global project; a connected machine that fails to answer fails the request (its tunnel error)
 * rather than filing sessions under the wrong project for good.
 */
export function rememberedProjectResolver(records: KeyValueStore, machine: Machine) {
  return async (directory: string): Promise<ProjectIdentity> => {
    const key = `project-of/${directory}`
    const known = await records.get<ProjectIdentity>(key)
    if (known) return known
    if (!(await machine.connected())) return GLOBAL
    const identity = await machine.vcs.project(directory)
    if (identity.id !== GLOBAL.id) await records.put(key, identity)
    return identity
  }
}
