import { z } from "zod"

/** A skill as `GET /skill` lists it: its SKILL.md's frontmatter `name` and `description`, its path, and its body. */
export const Skill = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    /** The SKILL.md's absolute path (`<built-in>` for upstream's built-in skill). */
    location: z.string(),
    /** The file's text after the frontmatter, as written. */
    content: z.string(),
  })
  .meta({ ref: "Skill" })
export type Skill = z.infer<typeof Skill>

/** A skill in `/api/skill`'s v2 shape. */
export const SkillV2Info = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    slash: z.boolean().optional(),
    location: z.string(),
    content: z.string(),
  })
  .meta({ ref: "SkillV2Info" })
export type SkillV2Info = z.infer<typeof SkillV2Info>

/**
 * One SKILL.md as the machine found it: its path, its text, a sample of the other files in its folder (absolute,
 * at most SKILL_FILE_SAMPLE) for the skill tool to name, and whether it came from the `.claude` or `.agents`
 * folders or was downloaded from `skills.urls` (`external`), which `/api/skill` leaves out as upstream's v2 listing does.
 */
export const SkillFile = z.object({
  location: z.string(),
  text: z.string(),
  files: z.array(z.string()),
  external: z.boolean(),
})
export type SkillFile = z.infer<typeof SkillFile>

/** How many of a skill folder's other files the skill tool names, as upstream. */
export const SKILL_FILE_SAMPLE = 10

/**
 * The local agent's machine-facing route listing a directory's SKILL.md files (`?path=` once per config
 * `skills.paths` entry, `?url=` once per `skills.urls` entry).
 */
export const SKILL_FILES_PATH = "/machine/skills"
