import { execFile } from "node:child_process"
import { promisify } from "node:util"
import type { ProjectIdentity } from "../../shared/ports.ts"
import { dirname, join } from "node:path"
import { findRepository } from "./git.ts"
import { createPathWatch } from "./path-watch.ts"

const run = promisify(execFile)
const GLOBAL: ProjectIdentity = { id: "global", worktree: "/" }
/** Directories known to be outside git; past this many, no more are kept. */
const MAX_OUTSIDE_GIT = 1024

async function git(directory: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd: directory, timeout: 5_000 })
  return stdout.trim()
}

/**
 * A directory's project as upstream names it: the git repository's first root commit and its toplevel,
 * or the global project for a directory outside git (or one with no commits yet).
 */
export function createProjectResolver() {
  // Git projects only: a directory outside git is asked again, so a later `git init` and first commit count.
  const cache = new Map<string, Promise<ProjectIdentity>>()
  // Directories with no .git up the tree, until a .git appears (or goes) in one of their folders.
  const outsideGit = new Set<string>()
  const watch = createPathWatch(() => outsideGit.clear())
  const resolver = (directory: string): Promise<ProjectIdentity> => {
    const cached = cache.get(directory)
    if (cached) return cached
    if (outsideGit.has(directory)) return Promise.resolve(GLOBAL)
    const identity = (async (): Promise<ProjectIdentity> => {
      // No .git up the tree (a few stats, no process): outside git, and kept so while no folder up the tree changes its .git.
      const generation = watch.generation
      for (let folder = directory; ; folder = dirname(folder)) {
        watch.look(join(folder, ".git"))
        if (dirname(folder) === folder) break
      }
      if (!(await findRepository(directory))) {
        if (watch.generation === generation && !watch.blind && outsideGit.size < MAX_OUTSIDE_GIT) outsideGit.add(directory)
        return GLOBAL
      }
      try {
        const worktree = await git(directory, "rev-parse", "--show-toplevel")
        const roots = (await git(directory, "rev-list", "--max-parents=0", "--all")).split("\n").filter(Boolean).sort()
        return roots[0] ? { id: roots[0], worktree, vcs: "git" as const } : GLOBAL
      } catch {
        return GLOBAL
      }
    })()
    cache.set(directory, identity)
    void identity.then((resolved) => {
      if (resolved === GLOBAL) cache.delete(directory)
    })
    return identity
  }
  return Object.assign(resolver, { close: () => watch.close() })
}
