import { z } from "zod"

export const ProjectIcon = z.object({
  url: z.string().optional(),
  override: z.string().optional(),
  color: z.string().optional(),
})

export const Project = z
  .object({
    id: z.string(),
    worktree: z.string(),
    vcs: z.literal("git").optional(),
    name: z.string().optional(),
    icon: ProjectIcon.optional(),
    commands: z.object({ start: z.string().optional() }).optional(),
    time: z.object({ created: z.number(), updated: z.number(), initialized: z.number().optional() }),
    sandboxes: z.array(z.string()),
  })
  .meta({ ref: "Project" })
export type Project = z.infer<typeof Project>

/** A project as a session listed across projects names it. */
export const ProjectSummary = Project.pick({ id: true, name: true, worktree: true }).meta({ ref: "ProjectSummary" })

export const ProjectUpdateInput = z.object({
  name: z.string().max(256).optional(),
  icon: ProjectIcon.optional(),
  commands: z.object({ start: z.string().optional() }).optional(),
})
export type ProjectUpdateInput = z.infer<typeof ProjectUpdateInput>
