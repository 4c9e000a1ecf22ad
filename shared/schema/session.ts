import { z } from "zod"
import { ProjectSummary } from "./project.ts"

/** One file a step or a session changed, as upstream 1.18 reports it: a unified patch (jsdiff's, `Index:` header). */
export const FileDiff = z
  .object({
    file: z.string().optional(),
    patch: z.string().optional(),
    additions: z.number(),
    deletions: z.number(),
    status: z.enum(["added", "deleted", "modified"]).optional(),
  })
  .meta({ ref: "SnapshotFileDiff" })
export type FileDiff = z.infer<typeof FileDiff>

export const Tokens = z.object({
  input: z.number(),
  output: z.number(),
  reasoning: z.number(),
  cache: z.object({ read: z.number(), write: z.number() }),
})

export const PermissionRule = z
  .object({ permission: z.string(), pattern: z.string(), action: z.enum(["allow", "deny", "ask"]) })
  .meta({ ref: "PermissionRule" })

export const Session = z
  .object({
    id: z.string().startsWith("ses"),
    slug: z.string(),
    projectID: z.string(),
    workspaceID: z.string().optional(),
    directory: z.string(),
    path: z.string().optional(),
    parentID: z.string().startsWith("ses").optional(),
    summary: z
      .object({ additions: z.number(), deletions: z.number(), files: z.number(), diffs: z.array(FileDiff).optional() })
      .optional(),
    cost: z.number().optional(),
    tokens: Tokens.optional(),
    share: z.object({ url: z.string() }).optional(),
    title: z.string(),
    agent: z.string().optional(),
    model: z.object({ id: z.string(), providerID: z.string(), variant: z.string().optional() }).optional(),
    version: z.string(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    time: z.object({
      created: z.number(),
      updated: z.number(),
      compacting: z.number().optional(),
      archived: z.number().optional(),
    }),
    permission: z.array(PermissionRule).optional(),
    revert: z
      .object({
        messageID: z.string(),
        partID: z.string().optional(),
        snapshot: z.string().optional(),
        diff: z.string().optional(),
      })
      .optional(),
  })
  .meta({ ref: "Session" })
export type Session = z.infer<typeof Session>

export const SessionStatus = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("idle") }),
    z.object({
      type: z.literal("retry"),
      attempt: z.number(),
      message: z.string(),
      next: z.number(),
    }),
    z.object({ type: z.literal("busy") }),
  ])
  .meta({ ref: "SessionStatus" })
export type SessionStatus = z.infer<typeof SessionStatus>

const Title = z.string().min(1).max(1024)

export const SessionCreateInput = z.object({
  parentID: z.string().startsWith("ses").optional(),
  title: Title.optional(),
  agent: z.string().optional(),
  model: z.object({ id: z.string(), providerID: z.string(), variant: z.string().optional() }).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  permission: z.array(PermissionRule).optional(),
  workspaceID: z.string().optional(),
})
export type SessionCreateInput = z.infer<typeof SessionCreateInput>

export const SessionUpdateInput = z.object({
  title: Title.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  permission: z.array(PermissionRule).optional(),
  time: z.object({ archived: z.number().nullable().optional() }).optional(),
})
export type SessionUpdateInput = z.infer<typeof SessionUpdateInput>

const BooleanQuery = z.enum(["true", "false"]).transform((value) => value === "true")

/** Upstream's `title LIKE '%' || search || '%'` (see shared/domain/title-search.ts). */
const TITLE_SEARCH = "Only sessions whose title contains this (ASCII letters in any case; % stands for any run of characters, _ for one)"

export const SessionListQuery = z.object({
  roots: BooleanQuery.optional(),
  start: z.coerce.number().int().nonnegative().optional(),
  search: z.string().optional().describe(TITLE_SEARCH),
  limit: z.coerce.number().int().positive().max(10_000).optional(),
  path: z.string().optional(),
  scope: z.enum(["project"]).optional(),
})
export type SessionListQuery = z.infer<typeof SessionListQuery>

/** A session listed across projects, with the project it belongs to (null when that project is not known). */
export const GlobalSession = Session.extend({ project: ProjectSummary.nullable() }).meta({ ref: "GlobalSession" })
export type GlobalSession = z.infer<typeof GlobalSession>

export const GlobalSessionListQuery = z.object({
  directory: z.string().optional().describe("Only the sessions of this directory"),
  roots: BooleanQuery.optional().describe("Only sessions without a parent"),
  start: z.coerce.number().int().nonnegative().optional().describe("Only sessions updated at or after this time (ms)"),
  cursor: z.coerce.number().int().nonnegative().optional().describe("Only sessions updated before this time (ms): x-next-cursor of the page before"),
  search: z.string().optional().describe(TITLE_SEARCH),
  limit: z.coerce.number().int().positive().max(10_000).optional().describe("At most this many (default 100)"),
  archived: BooleanQuery.optional().describe("Include archived sessions (default false)"),
})
export type GlobalSessionListQuery = z.infer<typeof GlobalSessionListQuery>

export const SessionForkInput = z.object({ messageID: z.string().startsWith("msg").optional() })
