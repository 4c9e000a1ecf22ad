import { homedir } from "node:os"
import { join } from "node:path"
import type { VcsService } from "../../shared/machine.ts"
import type { PathInfo, VcsInfo } from "../../shared/schema/machine.ts"
import { gitMaybe } from "./git.ts"
import { createProjectResolver } from "./project.ts"

export interface VcsServiceOptions {
  /** The agent's state directory (`--state`), reported as `state` by GET /path. */
  stateDirectory: string
}

/** The branch HEAD is on ("HEAD" when detached, as upstream reports it); undefined outside git. */
export async function currentBranch(directory: string): Promise<string | undefined> {
  const symbolic = (await gitMaybe(directory, ["symbolic-ref", "--short", "-q", "HEAD"]))?.trim()
  if (symbolic) return symbolic
  return (await gitMaybe(directory, ["rev-parse", "--abbrev-ref", "HEAD"]))?.trim() || undefined
}

/** origin's HEAD when known, otherwise `main` or `master` if such a branch exists. */
async function defaultBranch(directory: string): Promise<string | undefined> {
  const remote = (await gitMaybe(directory, ["symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD"]))?.trim()
  if (remote) return remote.replace(/^origin\//, "")
  for (const name of ["main", "master"]) {
    if ((await gitMaybe(directory, ["show-ref", "--verify", "-q", `refs/heads/${name}`])) !== undefined) return name
  }
  return undefined
}

/** Version control and well-known paths for a directory on this machine, from git. */
export function createVcsService(options: VcsServiceOptions): VcsService {
  return {
    project: createProjectResolver(),
    async info(directory: string): Promise<VcsInfo> {
      const branch = await currentBranch(directory)
      if (branch === undefined) return {}
      const fallback = await defaultBranch(directory)
      return { branch, ...(fallback ? { default_branch: fallback } : {}) }
    },

    async paths(directory: string): Promise<PathInfo> {
      const home = homedir()
      const configHome = process.env.XDG_CONFIG_HOME || join(home, ".config")
      const worktree = (await gitMaybe(directory, ["rev-parse", "--show-toplevel"]))?.trim() || "/"
      return { home, state: options.stateDirectory, config: join(configHome, "opencode"), worktree, directory }
    },
  }
}
