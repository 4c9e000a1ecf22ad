import { constants } from "node:fs"
import { open, readlink, realpath, type FileHandle } from "node:fs/promises"
import { join, relative, sep } from "node:path"
import { BadRequestError, NamedError, NotFoundError, PathOutsideDirectoryError } from "../../shared/error.ts"
import { Path } from "../../shared/path.ts"

/**
 * Path confinement: every path a client names is relative to the request's directory and must stay in it.
 *
 * 1. Lexically: no `..` segment in the path as received nor in any percent-decoding of it (`%2e%2e`,
 *    `..%2f`, double encoding), `/` or `\` as separators; an absolute path must lie under the directory.
 * 2. On disk, before anything is read: the real path of the target (symlinks resolved) must lie under the
 *    real path of the directory.
 * 3. When a file is opened, the descriptor's own path (`/proc/self/fd/N`) is checked again, so a path
 *    swapped for a symlink between the check and the open is still refused.
 */

export interface ConfinedPath {
  /** "/"-separated, relative to the directory; "" for the directory itself. */
  relative: string
  /** The directory joined with `relative` (not resolved). */
  absolute: string
}

export interface ResolvedPath extends ConfinedPath {
  /** The directory's real path. */
  realDirectory: string
  /** The target's real path (inside `realDirectory`). */
  real: string
}

function outside(path: string, why: string): NamedError {
  return new PathOutsideDirectoryError({ message: `Access denied: ${JSON.stringify(path)} ${why}`, path })
}

/** The path as received and every further percent-decoding of it (a few rounds, to catch double encoding). */
function decodings(path: string): string[] {
  const out = [path]
  let current = path
  for (let round = 0; round < 4; round++) {
    let next: string
    try {
      next = decodeURIComponent(current)
    } catch {
      // a lone `%` that is not an escape: decode what does decode
      next = current.replace(/%[0-9a-fA-F]{2}/g, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)))
    }
    if (next === current) break
    out.push(next)
    current = next
  }
  return out
}

/** Checks `path` lexically against `directory` (absolute, normalised); throws PathOutsideDirectoryError. */
export function confine(directory: string, path: string): ConfinedPath {
  if (path.includes("\0")) throw new BadRequestError({ message: "path must not contain NUL", kind: "Query" })
  for (const form of decodings(path)) {
    if (form.includes("\0")) throw new BadRequestError({ message: "path must not contain NUL", kind: "Query" })
    if (form.split(/[\\/]/).includes("..")) throw outside(path, "leaves the project directory (`..`)")
  }
  let relativePath: string
  if (Path.isAbsolute(path)) {
    const inside = Path.relativeInside(directory, Path.normalize(path))
    if (inside === undefined) throw outside(path, "is outside the project directory")
    relativePath = inside
  } else {
    relativePath = Path.normalize("/" + path).slice(1)
  }
  return { relative: relativePath, absolute: relativePath ? join(directory, relativePath) : directory }
}

function inside(base: string, target: string): boolean {
  return target === base || target.startsWith(base.endsWith(sep) ? base : base + sep)
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code
  return code === "ENOENT" || code === "ENOTDIR"
}

/** The directory's real path; 404 when it does not exist. */
export async function realDirectory(directory: string): Promise<string> {
  try {
    return await realpath(directory)
  } catch (error) {
    if (isMissing(error)) throw new NotFoundError({ message: `Directory not found: ${directory}` })
    throw error
  }
}

/** `confine`, then resolves symlinks on disk; 404 for a missing target, 403 when it resolves outside. */
export async function resolveInside(directory: string, path: string): Promise<ResolvedPath> {
  const confined = confine(directory, path)
  const realDir = await realDirectory(directory)
  let real: string
  try {
    real = await realpath(confined.absolute)
  } catch (error) {
    if (isMissing(error)) throw new NotFoundError({ message: `File not found: ${confined.relative || "."}` })
    throw error
  }
  if (!inside(realDir, real)) throw outside(path, "resolves (through a symlink) outside the project directory")
  return { ...confined, realDirectory: realDir, real }
}

/** The real path's name relative to the real directory, "/"-separated (what git and ripgrep are given). */
export function relativeReal(resolved: ResolvedPath): string {
  return relative(resolved.realDirectory, resolved.real).split(sep).join("/")
}

/**
 * Opens a resolved file for reading without following a symlink at the last step, then checks the open
 * descriptor's own path once more before the caller reads anything.
 */
export async function openConfined(resolved: ResolvedPath): Promise<FileHandle> {
  let handle: FileHandle
  try {
    handle = await open(resolved.real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (error) {
    if (isMissing(error)) throw new NotFoundError({ message: `File not found: ${resolved.relative}` })
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw outside(resolved.relative, "became a symlink")
    throw error
  }
  try {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined)
    if (opened !== undefined && !inside(resolved.realDirectory, opened)) throw outside(resolved.relative, "is outside the project directory")
    return handle
  } catch (error) {
    await handle.close()
    throw error
  }
}
