import { execFile } from "node:child_process"
import { promisify } from "node:util"
import type { ProjectIdentity } from "../../shared/ports.ts"
import { findRepository } from "./git.ts"

const run = promisify(execFile)
const GLOBAL: ProjectIdentity = { id: "global", worktree: "/" }

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
  return (directory: string): Promise<ProjectIdentity> => {
    const cached = cache.get(directory)
    if (cached) return cached
    const identity = (async (): Promise<ProjectIdentity> => {
      // No .git up the tree (a few stats, no process): outside git. Asked on every request, so it must be cheap.
      if (!(await findRepository(directory))) return GLOBAL
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
}
