import { z } from "zod"

export const Pty = z
  .object({
    id: z.string().startsWith("pty"),
    title: z.string(),
    command: z.string(),
    args: z.array(z.string()),
    cwd: z.string(),
    status: z.enum(["running", "exited"]),
    pid: z.number().int(),
    exitCode: z.number().int().optional(),
  })
  .meta({ ref: "Pty" })
export type Pty = z.infer<typeof Pty>

export const PtyShell = z.object({ path: z.string(), name: z.string(), acceptable: z.boolean() }).meta({ ref: "PtyShell" })
export type PtyShell = z.infer<typeof PtyShell>

export const PtyCreateInput = z.object({
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  cwd: z.string().min(1).optional(),
  title: z.string().max(256).optional(),
  env: z.record(z.string(), z.string()).optional(),
})
export type PtyCreateInput = z.infer<typeof PtyCreateInput>

export const PtySize = z.object({ rows: z.number().int().min(1).max(1000), cols: z.number().int().min(1).max(1000) })
export const PtyUpdateInput = z.object({ title: z.string().max(256).optional(), size: PtySize.optional() })
export type PtyUpdateInput = z.infer<typeof PtyUpdateInput>

export const PtyTicket = z.object({ ticket: z.string(), expires_in: z.number() }).meta({ ref: "PtyTicket" })
export type PtyTicket = z.infer<typeof PtyTicket>

export const FileNode = z
  .object({
    name: z.string(),
    path: z.string(),
    absolute: z.string(),
    type: z.enum(["file", "directory"]),
    ignored: z.boolean(),
  })
  .meta({ ref: "FileNode" })
export type FileNode = z.infer<typeof FileNode>

export const FilePatch = z.object({
  oldFileName: z.string(),
  newFileName: z.string(),
  oldHeader: z.string().optional(),
  newHeader: z.string().optional(),
  hunks: z.array(
    z.object({
      oldStart: z.number(),
      oldLines: z.number(),
      newStart: z.number(),
      newLines: z.number(),
      lines: z.array(z.string()),
    }),
  ),
  index: z.string().optional(),
})

export const FileContent = z
  .object({
    type: z.enum(["text", "binary"]),
    content: z.string(),
    diff: z.string().optional(),
    patch: FilePatch.optional(),
    encoding: z.literal("base64").optional(),
    mimeType: z.string().optional(),
  })
  .meta({ ref: "FileContent" })
export type FileContent = z.infer<typeof FileContent>

export const FileStatus = z
  .object({
    path: z.string(),
    added: z.number().int(),
    removed: z.number().int(),
    status: z.enum(["added", "deleted", "modified"]),
  })
  .meta({ ref: "File" })
export type FileStatus = z.infer<typeof FileStatus>

export const TextMatch = z
  .object({
    path: z.object({ text: z.string() }),
    lines: z.object({ text: z.string() }),
    line_number: z.number().int(),
    absolute_offset: z.number().int(),
    submatches: z.array(z.object({ match: z.object({ text: z.string() }), start: z.number().int(), end: z.number().int() })),
  })
  .meta({ ref: "TextMatch" })
export type TextMatch = z.infer<typeof TextMatch>

export const FindFilesQuery = z.object({
  query: z.string(),
  dirs: z.enum(["true", "false"]).optional(),
  type: z.enum(["file", "directory"]).optional(),
  limit: z.coerce.number().int().positive().max(10_000).optional(),
})
export type FindFilesQuery = z.infer<typeof FindFilesQuery>

export const PathInfo = z
  .object({ home: z.string(), state: z.string(), config: z.string(), worktree: z.string(), directory: z.string() })
  .meta({ ref: "Path" })
export type PathInfo = z.infer<typeof PathInfo>

export const VcsInfo = z
  .object({ branch: z.string().optional(), default_branch: z.string().optional() })
  .meta({ ref: "VcsInfo" })
export type VcsInfo = z.infer<typeof VcsInfo>

const ChangeKind = z.enum(["added", "deleted", "modified"])

export const VcsFileStatus = z
  .object({
    file: z.string().describe("Path from the worktree root"),
    additions: z.number().int(),
    deletions: z.number().int(),
    status: ChangeKind,
  })
  .meta({ ref: "VcsFileStatus" })
export type VcsFileStatus = z.infer<typeof VcsFileStatus>

export const VcsFileDiff = z
  .object({
    file: z.string().describe("Path from the worktree root"),
    patch: z.string().optional().describe("git's unified diff of the file; absent once the answer's patches pass 10 MB"),
    additions: z.number().int(),
    deletions: z.number().int(),
    status: ChangeKind.optional(),
  })
  .meta({ ref: "VcsFileDiff" })
export type VcsFileDiff = z.infer<typeof VcsFileDiff>

export const VcsDiffQuery = z.object({
  mode: z
    .enum(["git", "branch"])
    .describe("git: the working tree against HEAD; branch: against where the branch left the default branch"),
  context: z.coerce.number().int().nonnegative().optional().describe("Lines of context around each change (default: the whole file)"),
})
export type VcsDiffQuery = z.infer<typeof VcsDiffQuery>

export const LspStatus = z
  .object({
    id: z.string(),
    name: z.string(),
    root: z.string().describe("The server's root, relative to the request's directory (empty when the same)"),
    status: z.enum(["connected", "error"]),
  })
  .meta({ ref: "LSPStatus" })
export type LspStatus = z.infer<typeof LspStatus>

const LspPosition = z.object({ line: z.number().int(), character: z.number().int() })
export const LspRange = z.object({ start: LspPosition, end: LspPosition }).meta({ ref: "Range" })

/** A workspace symbol from a language server (LSP `SymbolInformation`). */
export const Symbol = z
  .object({
    name: z.string(),
    kind: z.number().int(),
    location: z.object({ uri: z.string(), range: LspRange }),
  })
  .meta({ ref: "Symbol" })
export type Symbol = z.infer<typeof Symbol>
