import { execFile } from "node:child_process"
import { readFile, stat } from "node:fs/promises"
import { dirname, isAbsolute, join, resolve } from "node:path"

/** Options every git call gets: no pager, no prompts, no fsmonitor hooks, no optional locks, paths unquoted. */
const GIT_ARGS = ["-c", "core.quotepath=false", "-c", "core.fsmonitor=false", "-c", "color.ui=false", "--literal-pathspecs"]
const GIT_ENV = { GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" }

export class GitError extends Error {
  constructor(
    message: string,
    readonly code: number | string | undefined,
    readonly stderr: string,
  ) {
    super(message)
  }
}

export interface GitOptions {
  maxBuffer?: number
  timeoutMs?: number
  /** More environment variables (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>
  /** Written to git's stdin (e.g. `--pathspec-from-file=-`). */
  input?: string
}

/** Runs git in `cwd` and resolves to its stdout; rejects with a GitError on a non-zero exit. */
export function git(cwd: string, args: string[], options: GitOptions = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      "git",
      [...GIT_ARGS, ...args],
      {
        cwd,
        env: { ...process.env, ...GIT_ENV, ...options.env },
        maxBuffer: options.maxBuffer ?? 32 * 1024 * 1024,
        timeout: options.timeoutMs ?? 15_000,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error) reject(new GitError(`git ${args[0]} failed: ${stderr.trim() || error.message}`, error.code ?? undefined, stderr))
        else resolvePromise(stdout)
      },
    )
    // git may exit before reading its input; its exit status says what went wrong, not the broken pipe
    child.stdin?.on("error", () => {})
    child.stdin?.end(options.input)
  })
}

/** `git` that resolves to undefined instead of failing (outside a repository, no HEAD yet, missing directory). */
export async function gitMaybe(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    return await git(cwd, args)
  } catch {
    return undefined
  }
}

/** The repository around `directory` (found by walking up to a `.git` entry, as git does), without running git. */
export async function findRepository(directory: string): Promise<{ root: string; gitDir: string } | undefined> {
  let current = resolve(directory)
  for (;;) {
    const candidate = join(current, ".git")
    try {
      const info = await stat(candidate)
      if (info.isDirectory()) return { root: current, gitDir: candidate }
      if (info.isFile()) {
        // a worktree or submodule: `gitdir: <path>`
        const match = /^gitdir:\s*(.+)$/m.exec(await readFile(candidate, "utf8"))
        if (match) {
          const gitDir = match[1]!.trim()
          return { root: current, gitDir: isAbsolute(gitDir) ? gitDir : resolve(current, gitDir) }
        }
      }
    } catch {
      // no .git here
    }
    const parent = dirname(current)
    if (parent === current) return undefined
    current = parent
  }
}

/** The branch HEAD names, read from the HEAD file; "HEAD" when detached (as `git rev-parse --abbrev-ref HEAD` says). */
export async function readHeadBranch(gitDir: string): Promise<string | undefined> {
  try {
    const head = (await readFile(join(gitDir, "HEAD"), "utf8")).trim()
    const match = /^ref:\s*refs\/heads\/(.+)$/.exec(head)
    if (match) return match[1]
    return head ? "HEAD" : undefined
  } catch {
    return undefined
  }
}
