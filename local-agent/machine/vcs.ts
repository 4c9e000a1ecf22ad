import { homedir } from "node:os"
import { join } from "node:path"
import type { VcsService } from "../../shared/machine.ts"
import type { PathInfo, VcsInfo } from "../../shared/schema/machine.ts"
import { currentBranch, defaultBranch } from "./branch.ts"
import { gitMaybe } from "./git.ts"
import { createProjectResolver } from "./project.ts"
import { vcsDiff, vcsStatus } from "./vcs-diff.ts"

export interface VcsServiceOptions {
  /** The agent's state directory (`--state`), reported as `state` by GET /path. */
  stateDirectory: string
}

/** Version control and well-known paths for a directory on this machine, from git. */
export function createVcsService(options: VcsServiceOptions): VcsService & { close(): void } {
  const project = createProjectResolver()
  return {
    project,
    close: project.close,
    async info(directory: string): Promise<VcsInfo> {
      const branch = await currentBranch(directory)
      if (branch === undefined) return {}
      const fallback = await defaultBranch(directory)
      return { branch, ...(fallback ? { default_branch: fallback.name } : {}) }
    },
    status: vcsStatus,
    diff: vcsDiff,

    async paths(directory: string): Promise<PathInfo> {
      const home = homedir()
      const configHome = process.env.XDG_CONFIG_HOME || join(home, ".config")
      const worktree = (await gitMaybe(directory, ["rev-parse", "--show-toplevel"]))?.trim() || "/"
      return { home, state: options.stateDirectory, config: join(configHome, "opencode"), worktree, directory }
    },
  }
}
