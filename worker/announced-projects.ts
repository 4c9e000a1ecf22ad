import { Projects } from "../shared/domain/project.ts"
import type { ProjectIdentity } from "../shared/ports.ts"
import type { Env } from "./env.ts"
import { createWorkerPorts } from "./ports.ts"

/**
 * The projects a machine announced when its tunnel connected, recorded in its tenant as the edge names a
 * directory's project, so the edge's `/project` lists them (the web app reads it) before any is opened here.
 */
export async function recordAnnouncedProjects(env: Env, tenant: string, projects: ProjectIdentity[]): Promise<void> {
  const ports = createWorkerPorts(env, tenant, { passwordAuth: false })
  for (const identity of projects) await Projects.current({ ...ports, resolveProject: async () => identity }, identity.worktree)
}
