import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { link, lstat, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { isAbsolute, join, relative, resolve } from "node:path"
import type { SnapshotService } from "../../shared/machine.ts"
import { BadRequestError } from "../../shared/error.ts"
import type { FileDiff } from "../../shared/schema/session.ts"
import { SnapshotHash } from "../../shared/schema/snapshot.ts"
import { findRepository, git } from "./git.ts"
import { snapshotPatchText } from "./unified-diff.ts"

export interface SnapshotServiceOptions {
  /** The agent's state directory: snapshot repositories live in `<state>/snapshot/<worktree hash>`. */
  stateDirectory: string
}

interface Repository {
  gitDir: string
  worktree: string
  /** The user's own `info/exclude`, copied into the snapshot repository so it ignores what the user's git does. */
  userExclude?: string
  /** New files left out for their size, excluded from then on while they stay that large (so git does not read them again). */
  leftOut: Set<string>
}

/** Settings of every snapshot repository: bytes as they are on disk, symlinks as links, no fsmonitor hooks. */
const REPOSITORY_CONFIG: [string, string][] = [
  ["core.autocrlf", "false"],
  ["core.symlinks", "true"],
  ["core.longpaths", "true"],
  ["core.fsmonitor", "false"],
  ["core.untrackedCache", "true"],
  ["gc.auto", "0"],
]
/** New files larger than this stay out of snapshots (upstream's limit): a build artifact or dump is not the agent's work. */
export const SNAPSHOT_MAX_FILE_BYTES = 2 * 1024 * 1024
/** Upstream's housekeeping: `git gc --prune=7.days` a minute after a repository is opened, then hourly. */
const GC_FIRST_DELAY_MS = 60_000
const GC_INTERVAL_MS = 60 * 60_000
const GC_PRUNE = "7.days"
/** Adding a whole worktree for the first time may take long on a large one. */
const GIT_TIMEOUT_MS = 5 * 60_000
const GIT_BUFFER = 512 * 1024 * 1024

/** The regular files among `paths` (relative to `worktree`) over SNAPSHOT_MAX_FILE_BYTES, a few stats at a time. */
async function largeFiles(worktree: string, paths: string[]): Promise<string[]> {
  const large: string[] = []
  for (let at = 0; at < paths.length; at += 64) {
    const batch = paths.slice(at, at + 64)
    const sizes = await Promise.all(batch.map((path) => lstat(join(worktree, path)).then((info) => (info.isFile() ? info.size : 0), () => 0)))
    batch.forEach((path, index) => sizes[index]! > SNAPSHOT_MAX_FILE_BYTES && large.push(path))
  }
  return large
}

/** A gitignore line for exactly this path from the worktree root, its glob characters taken literally. */
function excludePattern(path: string): string {
  return `/${path.replace(/[\\*?[\]!#]/g, "\\$&")}`
}

/**
 * Snapshots as upstream takes them, in a git directory of the agent's own used with `--git-dir` and
 * `--work-tree`: `add -A` into that repository's index (git re-hashes only files whose stat changed), then
 * `write-tree`. The user's repository is only read (its `info/exclude`). One operation at a time per repository.
 */
export function createSnapshotService(options: SnapshotServiceOptions): SnapshotService {
  const repositories = new Map<string, Promise<Repository>>()
  const queues = new Map<string, Promise<unknown>>()

  const locked = <T>(repository: Repository, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(repository.gitDir) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(work)
    queues.set(repository.gitDir, next)
    return next
  }

  const run = (repository: Repository, cwd: string, args: string[], input?: string) =>
    git(cwd, ["--git-dir", repository.gitDir, "--work-tree", repository.worktree, ...args], { timeoutMs: GIT_TIMEOUT_MS, maxBuffer: GIT_BUFFER, input })

  async function open(directory: string): Promise<Repository> {
    const found = await findRepository(directory)
    const worktree = found?.root ?? resolve(directory)
    const key = createHash("sha1").update(worktree).digest("hex").slice(0, 20)
    let opening = repositories.get(key)
    if (!opening) {
      opening = initialize({
        gitDir: join(options.stateDirectory, "snapshot", key),
        worktree,
        leftOut: new Set(),
        ...(found ? { userExclude: join(found.gitDir, "info", "exclude") } : {}),
      })
      repositories.set(key, opening)
      opening.then(scheduleGc, () => repositories.delete(key))
    }
    return opening
  }

  async function initialize(repository: Repository): Promise<Repository> {
    const exists = await stat(join(repository.gitDir, "HEAD")).then(
      () => true,
      () => false,
    )
    if (!exists) {
      await mkdir(repository.gitDir, { recursive: true })
      await git(repository.worktree, ["init", "-q"], { env: { GIT_DIR: repository.gitDir, GIT_WORK_TREE: repository.worktree } })
      for (const [name, value] of REPOSITORY_CONFIG) await git(repository.worktree, ["--git-dir", repository.gitDir, "config", name, value])
    }
    return repository
  }

  /** Old snapshots' objects pruned now and then, under the repository's lock; timers never keep the agent alive. */
  function scheduleGc(repository: Repository): void {
    const collect = () =>
      void locked(repository, async () => {
        if (await stat(repository.gitDir).catch(() => undefined)) await run(repository, repository.worktree, ["gc", `--prune=${GC_PRUNE}`])
      }).catch(() => {})
    setTimeout(() => {
      collect()
      setInterval(collect, GC_INTERVAL_MS).unref()
    }, GC_FIRST_DELAY_MS).unref()
  }

  /**
   * The snapshot index brought up to the worktree (what `.gitignore` and the user's excludes leave out stays out).
   * As upstream, a file over SNAPSHOT_MAX_FILE_BYTES that was not in the snapshot yet stays out; one already in it
   * is still followed. `add -v` names what it added, so only those few are looked at; a large new one (rare) is
   * taken out again, judged against the index as it was before (kept by a hard link while git replaces it), and
   * excluded from then on while it stays large.
   */
  async function add(repository: Repository, directory: string): Promise<void> {
    const userExclude = repository.userExclude ? (await readFile(repository.userExclude, "utf8").catch(() => "")).trimEnd() : ""
    if (repository.leftOut.size) {
      const stillLarge = new Set(await largeFiles(repository.worktree, [...repository.leftOut]))
      for (const path of repository.leftOut) if (!stillLarge.has(path)) repository.leftOut.delete(path)
    }
    const exclude = [userExclude, ...[...repository.leftOut].map(excludePattern)].filter(Boolean).join("\n")
    await mkdir(join(repository.gitDir, "info"), { recursive: true })
    await writeFile(join(repository.gitDir, "info", "exclude"), exclude ? `${exclude}\n` : "")
    const index = join(repository.gitDir, "index")
    const before = join(repository.gitDir, "index.before-add")
    await rm(before, { force: true })
    const hadIndex = await link(index, before).then(
      () => true,
      () => false,
    )
    const added = (await run(repository, directory, ["add", "-A", "-v", "--", "."])).split("\n").flatMap((line) => /^add '(.*)'$/.exec(line)?.[1] ?? [])
    const large = await largeFiles(repository.worktree, added)
    if (!large.length) return
    const known = hadIndex ? await git(repository.worktree, ["--git-dir", repository.gitDir, "ls-files", "-z", "--", ...large], { env: { GIT_INDEX_FILE: before } }) : ""
    const tracked = new Set(known.split("\0"))
    const fresh = large.filter((path) => !tracked.has(path))
    if (!fresh.length) return
    await run(repository, repository.worktree, ["rm", "--cached", "-q", "--", ...fresh])
    for (const path of fresh) repository.leftOut.add(path)
  }

  /** Hashes come from stored parts, which clients can edit: hex only, so git never reads one as an option. */
  function checked(...hashes: string[]): void {
    for (const hash of hashes) if (!SnapshotHash.safeParse(hash).success) throw new BadRequestError({ message: `Not a snapshot hash: ${hash}`, kind: "Body" })
  }

  /** Absolute paths inside the worktree only, as paths relative to it (patch parts can be edited by clients). */
  function insideWorktree(repository: Repository, files: string[]): [relativePath: string, absolute: string][] {
    return files.flatMap((file) => {
      const absolute = resolve(repository.worktree, file)
      const rel = relative(repository.worktree, absolute)
      return rel && !rel.startsWith("..") && !isAbsolute(rel) ? [[rel.replaceAll("\\", "/"), absolute] as [string, string]] : []
    })
  }

  return {
    async track(directory) {
      const repository = await open(directory)
      return locked(repository, async () => {
        await add(repository, directory)
        return (await run(repository, directory, ["write-tree"])).trim()
      })
    },

    async patch(directory, hash, to) {
      checked(hash, ...(to ? [to] : []))
      const repository = await open(directory)
      return locked(repository, async () => {
        // Between two snapshots git compares trees alone; up to now it brings the index up to the worktree first.
        if (!to) await add(repository, directory)
        const range = to ? [hash, to] : ["--cached", hash]
        const names = await run(repository, directory, ["diff", "--no-ext-diff", "--no-renames", "--name-only", "-z", ...range, "--", "."])
        return { hash, files: names.split("\0").filter(Boolean).map((name) => join(repository.worktree, name)) }
      })
    },

    async diff(directory, from, to) {
      checked(from, to)
      const repository = await open(directory)
      return locked(repository, () => diffTrees(repository, directory, from, to))
    },

    async diffText(directory, hash) {
      checked(hash)
      const repository = await open(directory)
      return locked(repository, async () => {
        await add(repository, directory)
        return (await run(repository, directory, ["diff", "--cached", "--no-ext-diff", hash, "--", "."])).trim()
      })
    },

    async revert(directory, patches) {
      checked(...patches.map((patch) => patch.hash))
      const repository = await open(directory)
      await locked(repository, async () => {
        const byHash = new Map<string, [string, string][]>()
        const seen = new Set<string>()
        for (const patch of patches) {
          const files = byHash.get(patch.hash) ?? []
          byHash.set(patch.hash, files)
          for (const entry of insideWorktree(repository, patch.files)) {
            if (seen.has(entry[1])) continue
            seen.add(entry[1])
            files.push(entry)
          }
        }
        for (const [hash, files] of byHash) {
          if (!files.length) continue
          const listed = await run(repository, repository.worktree, ["ls-tree", "-z", "--name-only", hash, "--", ...files.map(([rel]) => rel)])
          const present = new Set(listed.split("\0").filter(Boolean))
          const restore = files.filter(([rel]) => present.has(rel)).map(([rel]) => rel)
          if (restore.length) await run(repository, repository.worktree, ["checkout", hash, "--", ...restore])
          for (const [rel, absolute] of files) if (!present.has(rel)) await rm(absolute, { force: true })
        }
      })
    },

    async restore(directory, snapshot) {
      checked(snapshot)
      const repository = await open(directory)
      await locked(repository, async () => {
        await run(repository, repository.worktree, ["read-tree", snapshot])
        await run(repository, repository.worktree, ["checkout-index", "-a", "-f"])
      })
    },
  }

  /** Name, status and line counts from git; the patch text from both sides' blobs, read in one `cat-file` run. */
  async function diffTrees(repository: Repository, directory: string, from: string, to: string): Promise<FileDiff[]> {
    if (from === to) return []
    const base = ["diff", "--no-ext-diff", "--no-renames", "-z"]
    const [statuses, numstat] = await Promise.all([
      run(repository, directory, [...base, "--name-status", from, to, "--", "."]),
      run(repository, directory, [...base, "--numstat", from, to, "--", "."]),
    ])
    const status = new Map<string, NonNullable<FileDiff["status"]>>()
    const fields = statuses.split("\0")
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const code = fields[i]!
      if (!code) break
      status.set(fields[i + 1]!, code.startsWith("A") ? "added" : code.startsWith("D") ? "deleted" : "modified")
    }
    // -z numstat: "<adds>\t<dels>\t<path>\0" per file (renames are off, so one path each)
    const counted = numstat
      .split("\0")
      .filter(Boolean)
      .map((line) => {
        const [adds, dels, ...name] = line.split("\t")
        return { file: name.join("\t"), binary: adds === "-" && dels === "-", additions: Number(adds) || 0, deletions: Number(dels) || 0 }
      })
    const text = counted.filter((entry) => !entry.binary).flatMap((entry) => [`${from}:${entry.file}`, `${to}:${entry.file}`])
    const blobs = await readBlobs(repository, text)
    return counted.map((entry) => ({
      file: entry.file,
      ...(entry.binary ? {} : { patch: snapshotPatchText(entry.file, blobs.get(`${from}:${entry.file}`) ?? "", blobs.get(`${to}:${entry.file}`) ?? "") }),
      additions: entry.additions,
      deletions: entry.deletions,
      status: status.get(entry.file) ?? "modified",
    }))
  }

  /** The text of each `<tree>:<path>` named (a missing one is left out), through one `git cat-file --batch`. */
  function readBlobs(repository: Repository, names: string[]): Promise<Map<string, string>> {
    if (!names.length) return Promise.resolve(new Map())
    return new Promise((resolvePromise, reject) => {
      const child = execFile(
        "git",
        ["--git-dir", repository.gitDir, "cat-file", "--batch"],
        { cwd: repository.worktree, encoding: "buffer", maxBuffer: GIT_BUFFER, timeout: GIT_TIMEOUT_MS },
        (error, stdout) => {
          if (error) return reject(error)
          const blobs = new Map<string, string>()
          let at = 0
          for (const name of names) {
            const end = stdout.indexOf(10, at)
            if (end < 0) break
            const header = stdout.subarray(at, end).toString("utf8")
            at = end + 1
            if (header.endsWith(" missing")) continue
            const size = Number(header.split(" ")[2])
            blobs.set(name, stdout.subarray(at, at + size).toString("utf8"))
            at += size + 1
          }
          resolvePromise(blobs)
        },
      )
      child.stdin?.on("error", () => {})
      child.stdin?.end(names.map((name) => `${name}\n`).join(""))
    })
  }
}
