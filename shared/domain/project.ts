import { NotFoundError } from "../error.ts"
import type { Project, ProjectUpdateInput } from "../schema/project.ts"
import type { Ports } from "../ports.ts"
import { Bus } from "./bus.ts"

export namespace Projects {
  /** The project a directory belongs to, recorded on first sight. */
  export async function current(ports: Ports, directory: string): Promise<Project> {
    const identity = await ports.resolveProject(directory)
    const existing = await ports.projects.get(identity.worktree)
    if (existing && existing.id === identity.id) return existing
    const now = ports.clock.now()
    const project: Project = {
      id: identity.id,
      worktree: identity.worktree,
      ...(identity.vcs ? { vcs: identity.vcs } : {}),
      time: { created: now, updated: now },
      sandboxes: [],
    }
    await ports.projects.put(project)
    return project
  }

  export async function list(ports: Ports): Promise<Project[]> {
    return ports.projects.list()
  }

  export async function update(ports: Ports, projectID: string, input: ProjectUpdateInput): Promise<Project> {
    const project = await ports.projects.find(projectID)
    if (!project) throw new NotFoundError({ message: `Project not found: ${projectID}` })
    const next: Project = {
      ...project,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.icon !== undefined ? { icon: { ...project.icon, ...input.icon } } : {}),
      ...(input.commands !== undefined ? { commands: { ...project.commands, ...input.commands } } : {}),
      time: { ...project.time, updated: ports.clock.now() },
    }
    await ports.projects.put(next)
    await Bus.publish(ports, project.worktree, "project.updated", next)
    return next
  }
}
