import { spawn } from "node:child_process"
import { accessSync, constants } from "node:fs"
import { lstat, readFile } from "node:fs/promises"
import { delimiter, join } from "node:path"
import { createInterface } from "node:readline"
import { BadRequestError } from "../../shared/error.ts"
import type { FindFilesQuery, TextMatch } from "../../shared/schema/machine.ts"
import { IgnoreRules } from "./gitignore.ts"
import { walk } from "./walk.ts"

/** At most this many hits for one text search. */
export const MAX_TEXT_MATCHES = 1000
/** The built-in search skips files larger than this (ripgrep does not, but it streams). */
const MAX_SEARCH_FILE_BYTES = 32 * 1024 * 1024
/** Bytes looked at for a NUL to call a file binary, as ripgrep and git do. */
const BINARY_SNIFF_BYTES = 8000

/** The `rg` executable on PATH, if any. */
export function findRipgrep(): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (!directory) continue
    const candidate = join(directory, "rg")
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

type RgText = { text?: string; bytes?: string }

function rgText(value: RgText | undefined): string {
  if (!value) return ""
  if (typeof value.text === "string") return value.text
  return value.bytes ? Buffer.from(value.bytes, "base64").toString("utf8") : ""
}

/**
 * `rg --json` in `root`: hidden files included, `.git` and .gitignore'd files left out (also outside a git
 * repository, as the built-in search does), sorted by path; stops after `limit` hits.
 */
export async function ripgrepSearch(rg: string, root: string, pattern: string, limit = MAX_TEXT_MATCHES): Promise<TextMatch[]> {
  // no process takes a NUL in its arguments (spawn would throw)
  if (pattern.includes("\0")) throw new BadRequestError({ message: "pattern must not contain NUL", kind: "Query" })
  const child = spawn(
    rg,
    ["--json", "--hidden", "--no-require-git", "--glob", "!.git", "--sort", "path", "--no-config", "--regexp", pattern],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  )
  let stderr = ""
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject)
    child.once("close", (code) => resolve(code))
  })
  const matches: TextMatch[] = []
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line.startsWith('{"type":"match"')) continue
    const data = JSON.parse(line).data
    matches.push({
      path: { text: rgText(data.path) },
      lines: { text: rgText(data.lines) },
      line_number: data.line_number,
      absolute_offset: data.absolute_offset,
      submatches: (data.submatches ?? []).map((sub: { match: RgText; start: number; end: number }) => ({
        match: { text: rgText(sub.match) },
        start: sub.start,
        end: sub.end,
      })),
    })
    if (matches.length >= limit) {
      child.kill("SIGTERM")
      break
    }
  }
  lines.close()
  const code = await exited
  // 0: hits, 1: none, 2: an error (a bad pattern, or some unreadable file next to real hits)
  if (code === 2 && matches.length === 0 && stderr.trim()) {
    throw new BadRequestError({ message: `Invalid search: ${stderr.trim().split("\n").slice(0, 6).join(" ")}`, kind: "Query" })
  }
  return matches
}

function compile(pattern: string): RegExp {
  try {
    return new RegExp(pattern, "gu")
  } catch {
    // not valid with the unicode flag; try without it
  }
  try {
    return new RegExp(pattern, "g")
  } catch (error) {
    throw new BadRequestError({ message: `Invalid search pattern: ${(error as Error).message}`, kind: "Query" })
  }
}

/** The same hits as `ripgrepSearch`, without ripgrep: a walk that honours .gitignore, JavaScript regular expressions. */
export async function builtinSearch(root: string, pattern: string, limit = MAX_TEXT_MATCHES): Promise<TextMatch[]> {
  const regexp = compile(pattern)
  const rules = await IgnoreRules.load(root)
  const matches: TextMatch[] = []
  for await (const entry of walk(root, rules)) {
    if (entry.type !== "file") continue
    const file = join(root, entry.path)
    const info = await lstat(file).catch(() => undefined)
    if (!info?.isFile() || info.size > MAX_SEARCH_FILE_BYTES) continue
    const bytes = await readFile(file).catch(() => undefined)
    if (!bytes || bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) continue
    const text = bytes.toString("utf8")
    let offset = 0
    let lineNumber = 0
    while (offset < text.length) {
      lineNumber++
      const newline = text.indexOf("\n", offset)
      const end = newline === -1 ? text.length : newline + 1
      const lineWithEnd = text.slice(offset, end)
      const line = newline === -1 ? lineWithEnd : lineWithEnd.slice(0, -1)
      const submatches: TextMatch["submatches"] = []
      regexp.lastIndex = 0
      for (let found = regexp.exec(line); found; found = regexp.exec(line)) {
        if (found[0] === "") {
          regexp.lastIndex++
          continue
        }
        const start = Buffer.byteLength(line.slice(0, found.index))
        submatches.push({ match: { text: found[0] }, start, end: start + Buffer.byteLength(found[0]) })
      }
      if (submatches.length > 0) {
        matches.push({
          path: { text: entry.path },
          lines: { text: lineWithEnd },
          line_number: lineNumber,
          absolute_offset: Buffer.byteLength(text.slice(0, offset)),
          submatches,
        })
        if (matches.length >= limit) return matches
      }
      offset = end
    }
  }
  return matches
}

/**
 * How well `query` matches `target` as a subsequence (case-insensitive), higher is better; undefined when
 * it does not. Consecutive letters, letters at the start of a name or word, and hits in the last path
 * segment score more; longer paths score a little less.
 */
export function fuzzyScore(query: string, target: string): number | undefined {
  const q = query.toLowerCase()
  const t = target.toLowerCase()
  if (q.length === 0) return 0
  const trimmed = target.endsWith("/") ? target.slice(0, -1) : target
  const baseStart = trimmed.lastIndexOf("/") + 1
  // an exact substring is the best kind of hit; prefer it in the base name
  const substring = t.lastIndexOf(q)
  let score = 0
  if (substring >= 0) {
    score += 100 + q.length * 10
    if (substring >= baseStart) score += 50
    if (substring === 0 || "/_-. ".includes(t[substring - 1]!)) score += 30
  } else {
    let position = 0
    let previous = -2
    for (const char of q) {
      const found = t.indexOf(char, position)
      if (found === -1) return undefined
      score += 1
      if (found === previous + 1) score += 5
      if (found === 0 || "/_-. ".includes(t[found - 1]!)) score += 8
      if (found >= baseStart) score += 2
      previous = found
      position = found + 1
    }
  }
  return score - target.length * 0.1
}

function isHidden(path: string): boolean {
  return path
    .replace(/\/+$/, "")
    .split("/")
    .some((segment) => segment.startsWith(".") && segment.length > 1)
}

/** Files and directories (with a trailing "/") whose names fuzzily match, best first; .gitignore honoured. */
export async function findFiles(root: string, query: FindFilesQuery, options: { maxEntries?: number } = {}): Promise<string[]> {
  const limit = query.limit ?? 100
  const kind = query.type ?? (query.dirs === "false" ? "file" : "all")
  const rules = await IgnoreRules.load(root)
  const files: string[] = []
  const directories: string[] = []
  for await (const entry of walk(root, rules, { maxEntries: options.maxEntries ?? 100_000 })) {
    if (entry.type === "directory") directories.push(entry.path + "/")
    else files.push(entry.path)
  }
  const text = query.query.trim()
  const preferHidden = text.startsWith(".") || text.includes("/.")
  const hiddenLast = (a: string, b: string) => (preferHidden ? 0 : Number(isHidden(a)) - Number(isHidden(b)))
  if (!text) {
    // as upstream: with no query, files alone when only files are wanted, otherwise the directories
    if (kind === "file") return files.sort(hiddenLast).slice(0, limit)
    return directories.sort(hiddenLast).slice(0, limit)
  }
  const candidates = kind === "file" ? files : kind === "directory" ? directories : [...files, ...directories]
  const scored: { path: string; score: number }[] = []
  for (const path of candidates) {
    const score = fuzzyScore(text, path)
    if (score !== undefined) scored.push({ path, score })
  }
  scored.sort((a, b) => hiddenLast(a.path, b.path) || b.score - a.score || a.path.length - b.path.length || (a.path < b.path ? -1 : 1))
  return scored.slice(0, limit).map((hit) => hit.path)
}
