import { isUtf8 } from "node:buffer"
import { lstat, readdir, readFile, stat } from "node:fs/promises"
import { extname, join } from "node:path"
import { BadRequestError } from "../../shared/error.ts"
import type { FileService } from "../../shared/machine.ts"
import type { FileContent, FileNode, FileStatus, FindFilesQuery, TextMatch } from "../../shared/schema/machine.ts"
import { openConfined, realDirectory, relativeReal, resolveInside } from "./confine.ts"
import { headOrEmptyTree } from "./branch.ts"
import { git, gitMaybe } from "./git.ts"
import { IgnoreRules } from "./gitignore.ts"
import { parseUnifiedDiff } from "./patch.ts"
import { builtinSearch, findFiles, findRipgrep, ripgrepSearch } from "./search.ts"

const BINARY_SNIFF_BYTES = 8000
/** Untracked files larger than this are not read to count their lines. */
const MAX_COUNTED_BYTES = 32 * 1024 * 1024

const MIME_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".bmp": "image/bmp",
  ".ico": "image/x-icon",
  ".avif": "image/avif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".svg": "image/svg+xml",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".tgz": "application/gzip",
  ".tar": "application/x-tar",
  ".bz2": "application/x-bzip2",
  ".xz": "application/x-xz",
  ".7z": "application/x-7z-compressed",
  ".wasm": "application/wasm",
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
  ".ogg": "audio/ogg",
  ".flac": "audio/flac",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".mov": "video/quicktime",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".sqlite": "application/vnd.sqlite3",
  ".db": "application/vnd.sqlite3",
  ".class": "application/java-vm",
  ".jar": "application/java-archive",
}

export function mimeTypeOf(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream"
}

/** Text when it has no NUL near the start and decodes as UTF-8. */
function asText(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return undefined
  return isUtf8(bytes) ? bytes.toString("utf8") : undefined
}

function nameSort(a: FileNode, b: FileNode): number {
  if (a.type !== b.type) return a.type === "directory" ? -1 : 1
  return a.name.localeCompare(b.name)
}

export interface FileServiceOptions {
  /** The `rg` executable; undefined looks it up on PATH, false always uses the built-in search. */
  ripgrep?: string | false
}

/** Files on this machine's disk, every path confined to the request's directory (see confine.ts). */
export function createFileService(options: FileServiceOptions = {}): FileService {
  const ripgrep = options.ripgrep === false ? undefined : (options.ripgrep ?? findRipgrep())

  return {
    async list(directory: string, path: string): Promise<FileNode[]> {
      const target = await resolveInside(directory, path)
      const info = await stat(target.real)
      if (!info.isDirectory()) throw new BadRequestError({ message: `Not a directory: ${target.relative}`, kind: "Query" })
      const rules = await IgnoreRules.load(target.realDirectory)
      const base = relativeReal(target)
      const entries = await readdir(target.real, { withFileTypes: true })
      const nodes = await Promise.all(
        entries.map(async (entry): Promise<FileNode> => {
          let isDirectory = entry.isDirectory()
          if (entry.isSymbolicLink()) {
            // a symlink is listed as what it points to (only its name is given out; reading it is checked)
            isDirectory = await stat(join(target.real, entry.name)).then((s) => s.isDirectory(), () => false)
          }
          const relativePath = target.relative ? `${target.relative}/${entry.name}` : entry.name
          const realRelative = base ? `${base}/${entry.name}` : entry.name
          return {
            name: entry.name,
            path: relativePath,
            absolute: join(target.absolute, entry.name),
            type: isDirectory ? "directory" : "file",
            ignored: entry.name === ".git" || (await rules.ignored(realRelative, isDirectory)),
          }
        }),
      )
      return nodes.sort(nameSort)
    },

    async read(directory: string, path: string): Promise<FileContent> {
      const target = await resolveInside(directory, path)
      const handle = await openConfined(target)
      let bytes: Buffer
      try {
        const info = await handle.stat()
        if (info.isDirectory()) throw new BadRequestError({ message: `Is a directory: ${target.relative}`, kind: "Query" })
        if (!info.isFile()) throw new BadRequestError({ message: `Not a regular file: ${target.relative}`, kind: "Query" })
        bytes = await handle.readFile()
      } finally {
        await handle.close()
      }
      const text = asText(bytes)
      if (text === undefined) {
        return { type: "binary", content: bytes.toString("base64"), encoding: "base64", mimeType: mimeTypeOf(target.real) }
      }
      const diff = await diffAgainstHead(target.realDirectory, relativeReal(target))
      if (!diff) return { type: "text", content: text }
      const patch = parseUnifiedDiff(diff, relativeReal(target))
      return { type: "text", content: text, diff, ...(patch ? { patch } : {}) }
    },

    async status(directory: string): Promise<FileStatus[]> {
      const root = await realDirectory(directory)
      const inside = await gitMaybe(root, ["rev-parse", "--is-inside-work-tree"])
      if (inside?.trim() !== "true") return []
      const base = await headOrEmptyTree(root)
      const [numstat, nameStatus, untracked] = await Promise.all([
        git(root, ["diff", "--numstat", "-z", "--no-renames", "--relative", base, "--"]),
        git(root, ["diff", "--name-status", "-z", "--no-renames", "--relative", base, "--"]),
        git(root, ["ls-files", "-z", "--others", "--exclude-standard"]),
      ])
      const kinds = new Map<string, FileStatus["status"]>()
      const statusFields = nameStatus.split("\0")
      for (let i = 0; i + 1 < statusFields.length; i += 2) {
        const letter = statusFields[i]!
        kinds.set(statusFields[i + 1]!, letter === "A" ? "added" : letter === "D" ? "deleted" : "modified")
      }
      const out: FileStatus[] = []
      for (const record of numstat.split("\0")) {
        if (!record) continue
        const [added, removed, file] = record.split("\t")
        if (file === undefined) continue
        out.push({
          path: file,
          added: added === "-" ? 0 : Number(added),
          removed: removed === "-" ? 0 : Number(removed),
          status: kinds.get(file) ?? "modified",
        })
      }
      for (const file of untracked.split("\0")) {
        if (!file) continue
        out.push({ path: file, added: await untrackedLines(join(root, file)), removed: 0, status: "added" })
      }
      return out
    },

    async findText(directory: string, pattern: string): Promise<TextMatch[]> {
      const root = await realDirectory(directory)
      return ripgrep ? ripgrepSearch(ripgrep, root, pattern) : builtinSearch(root, pattern)
    },

    async findFiles(directory: string, query: FindFilesQuery): Promise<string[]> {
      return findFiles(await realDirectory(directory), query)
    },
  }
}

/** Lines as `git diff --numstat` counts them for a new file: a last line without a newline counts too. */
function countLines(text: string): number {
  if (text === "") return 0
  const newlines = text.split("\n").length - 1
  return text.endsWith("\n") ? newlines : newlines + 1
}

/**
 * Lines an untracked file adds. Only regular files are read: a symlink (which may point anywhere) counts as
 * its one line of link text, as git would count it; binary and very large files count 0.
 */
async function untrackedLines(file: string): Promise<number> {
  const info = await lstat(file).catch(() => undefined)
  if (info?.isSymbolicLink()) return 1
  if (!info?.isFile() || info.size > MAX_COUNTED_BYTES) return 0
  const bytes = await readFile(file).catch(() => undefined)
  const text = bytes && asText(bytes)
  return text === undefined ? 0 : countLines(text)
}

/** `git diff HEAD -- <file>` when the file is tracked and differs from HEAD; undefined otherwise (and outside git). */
async function diffAgainstHead(root: string, file: string): Promise<string | undefined> {
  const diff = await gitMaybe(root, ["diff", "--no-ext-diff", "--no-textconv", "HEAD", "--", file])
  return diff?.trim() ? diff : undefined
}
