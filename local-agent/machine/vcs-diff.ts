import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { VcsDiffQuery, VcsFileDiff, VcsFileStatus } from "../../shared/schema/machine.ts"
import { forkPoint, headOrEmptyTree } from "./branch.ts"
import { realDirectory } from "./confine.ts"
import { git, gitMaybe } from "./git.ts"

/** Upstream's default context: the whole file, so the review can show a change in place. */
const WHOLE_FILE = 2_147_483_647
/** Patches stop being included once an answer's patches reach this many bytes (upstream's cap). */
const MAX_PATCH_BYTES = 10_000_000
/** git's output for one answer's patches may be this large before they are all left out. */
const MAX_GIT_OUTPUT = 64 * 1024 * 1024
const DIFF_ARGS = ["--no-ext-diff", "--no-renames", "--no-color"]

type Kind = VcsFileStatus["status"]
interface Change {
  file: string
  status: Kind
  untracked: boolean
}
interface Counts {
  additions: number
  deletions: number
}
const NO_COUNTS: Counts = { additions: 0, deletions: 0 }

/**
 * Changed files of a directory as the app's review lists them: git's view of the working tree (staged,
 * unstaged and untracked files), paths from the worktree root, limited to the directory, sorted by path.
 */
export async function vcsStatus(directory: string): Promise<VcsFileStatus[]> {
  const cwd = await realDirectory(directory)
  const root = await worktreeRoot(cwd)
  if (!root) return []
  const [changes, counts] = await Promise.all([porcelainChanges(cwd), numstat(cwd, await headOrEmptyTree(cwd))])
  const untracked = await untrackedDiff(root, untrackedFiles(changes))
  return byPath(changes).map(({ file, status, untracked: isNew }) => ({
    file,
    ...((isNew ? untracked.counts : counts).get(file) ?? NO_COUNTS),
    status,
  }))
}

/**
 * The same files with git's patches: `git` mode against HEAD (the empty tree before the first commit),
 * `branch` mode against the commit where the branch left the default branch (nothing on the default branch).
 */
export async function vcsDiff(directory: string, query: VcsDiffQuery): Promise<VcsFileDiff[]> {
  const cwd = await realDirectory(directory)
  const root = await worktreeRoot(cwd)
  if (!root) return []
  const base = query.mode === "git" ? await headOrEmptyTree(cwd) : await forkPoint(cwd)
  if (!base) return []
  const unified = query.context ?? WHOLE_FILE
  const [tracked, counts, porcelain, patches] = await Promise.all([
    nameStatus(cwd, base),
    numstat(cwd, base),
    porcelainChanges(cwd),
    trackedPatches(cwd, base, unified),
  ])
  const untrackedPaths = untrackedFiles(porcelain)
  const untracked = await untrackedDiff(root, untrackedPaths, unified)
  const listed = new Set(tracked.map((change) => change.file))
  const changes = [...tracked, ...porcelain.filter((change) => change.untracked && !listed.has(change.file))]
  let patchBytes = 0
  return byPath(changes).map(({ file, status, untracked: isNew }) => {
    const patch = (isNew ? untracked.patches : patches).get(file)
    const size = patch === undefined ? 0 : Buffer.byteLength(patch)
    const included = patch !== undefined && patchBytes + size <= MAX_PATCH_BYTES
    if (included) patchBytes += size
    return { file, ...(included ? { patch } : {}), ...((isNew ? untracked.counts : counts).get(file) ?? NO_COUNTS), status }
  })
}

async function worktreeRoot(cwd: string): Promise<string | undefined> {
  return (await gitMaybe(cwd, ["rev-parse", "--show-toplevel"]))?.trim() || undefined
}

function byPath(changes: Change[]): Change[] {
  return [...changes].sort((a, b) => a.file.localeCompare(b.file))
}

/** Untracked files; a nested repository shows as its folder (`name/`), which has no lines to count. */
function untrackedFiles(changes: Change[]): string[] {
  return changes.filter((change) => change.untracked && !change.file.endsWith("/")).map((change) => change.file)
}

/** A porcelain status code (`XY`) or a `--name-status` letter as the kind of change the app shows. */
function kindOf(code: string): Kind {
  if (code === "??") return "added"
  if (code.includes("U")) return "modified"
  if (code.includes("A") && !code.includes("D")) return "added"
  if (code.includes("D") && !code.includes("A")) return "deleted"
  return "modified"
}

/** `git status` for the directory: porcelain paths are from the worktree root, whatever the cwd. */
async function porcelainChanges(cwd: string): Promise<Change[]> {
  const out = await git(cwd, ["status", "--porcelain=v1", "--untracked-files=all", "--no-renames", "-z", "--", "."])
  return out
    .split("\0")
    .filter((record) => record.length > 3)
    .map((record) => {
      const code = record.slice(0, 2)
      return { file: record.slice(3), status: kindOf(code), untracked: code === "??" }
    })
}

async function nameStatus(cwd: string, base: string): Promise<Change[]> {
  const fields = (await git(cwd, ["diff", ...DIFF_ARGS, "--name-status", "-z", base, "--", "."])).split("\0")
  const changes: Change[] = []
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] && fields[i + 1]) changes.push({ file: fields[i + 1]!, status: kindOf(fields[i]!), untracked: false })
  }
  return changes
}

/** `--numstat -z` as counts by path; a binary file counts 0 and 0, as git's `-` says. */
function parseNumstat(out: string): Map<string, Counts> {
  const counts = new Map<string, Counts>()
  for (const record of out.split("\0")) {
    const [added, removed, file] = record.split("\t")
    if (file === undefined || removed === undefined) continue
    counts.set(file, { additions: added === "-" ? 0 : Number(added), deletions: removed === "-" ? 0 : Number(removed) })
  }
  return counts
}

async function numstat(cwd: string, base: string): Promise<Map<string, Counts>> {
  return parseNumstat(await git(cwd, ["diff", ...DIFF_ARGS, "--numstat", "-z", base, "--", "."]))
}

async function trackedPatches(cwd: string, base: string, unified: number): Promise<Map<string, string>> {
  const out = await patchOutput(cwd, ["diff", ...DIFF_ARGS, "--patch", `--unified=${unified}`, base, "--", "."])
  return splitPatches(out)
}

/** git's patch output, or nothing when it is too large to hold (the files are then listed without patches). */
async function patchOutput(cwd: string, args: string[], env?: Record<string, string>): Promise<string> {
  try {
    return await git(cwd, args, { maxBuffer: MAX_GIT_OUTPUT, env, timeoutMs: 60_000 })
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") return ""
    throw error
  }
}

/**
 * Counts (and, given a context, patches) of untracked files as git shows new files: they are added with
 * `--intent-to-add` to a throwaway index (the real one is not touched), whose diff against the working tree is
 * then theirs alone.
 */
async function untrackedDiff(root: string, files: string[], unified?: number) {
  const none = { patches: new Map<string, string>(), counts: new Map<string, Counts>() }
  if (files.length === 0) return none
  const scratch = await mkdtemp(join(tmpdir(), "oc-untracked-index-"))
  try {
    const env = { GIT_INDEX_FILE: join(scratch, "index") }
    const input = files.join("\0") + "\0"
    // should git refuse an entry, the files are listed without counts rather than the answer failing
    const added = await git(root, ["add", "--intent-to-add", "--pathspec-from-file=-", "--pathspec-file-nul"], { env, input }).then(
      () => true,
      () => false,
    )
    if (!added) return none
    const [out, counts] = await Promise.all([
      unified === undefined ? "" : patchOutput(root, ["diff", ...DIFF_ARGS, "--patch", `--unified=${unified}`], env),
      git(root, ["diff", ...DIFF_ARGS, "--numstat", "-z"], { env }),
    ])
    return { patches: splitPatches(out), counts: parseNumstat(counts) }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/**
 * One patch per file from `git diff --patch`. Without renames a header names the same path twice,
 * `diff --git a/<path> b/<path>`, so the path is its first half; a quoted (unusual) name is skipped.
 */
function splitPatches(out: string): Map<string, string> {
  const patches = new Map<string, string>()
  const starts = [...out.matchAll(/^diff --git /gm)].map((match) => match.index)
  starts.forEach((start, index) => {
    const chunk = out.slice(start, starts[index + 1] ?? out.length)
    const names = chunk.slice("diff --git ".length, chunk.indexOf("\n"))
    if (!names.startsWith("a/")) return
    const file = names.slice(2, 2 + (names.length - 5) / 2)
    if (names === `a/${file} b/${file}`) patches.set(file, chunk)
  })
  return patches
}
