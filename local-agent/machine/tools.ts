import { spawn } from "node:child_process"
import { constants } from "node:fs"
import { lstat, mkdir, open, readlink, realpath } from "node:fs/promises"
import { basename, dirname, join, sep } from "node:path"
import { BadRequestError, NotFoundError, PathOutsideDirectoryError } from "../../shared/error.ts"
import type { ToolService } from "../../shared/machine.ts"
import {
  BASH_DEFAULT_TIMEOUT_MS,
  isMachineToolID,
  parseToolArguments,
  type MachineToolID,
  type ToolArgs,
  type ToolResult,
} from "../../shared/tools.ts"
import { confine, openConfined, realDirectory, resolveInside, type ResolvedPath } from "./confine.ts"
import { IgnoreRules } from "./gitignore.ts"
import { unifiedDiff } from "./unified-diff.ts"
import { walk } from "./walk.ts"

/** Output kept from a command (stdout and stderr together); the rest is dropped and marked truncated. */
export const MAX_BASH_OUTPUT_BYTES = 64 * 1024
const DEFAULT_READ_LINES = 2000
const MAX_LINE_CHARS = 2000
const MAX_READ_BYTES = 10 * 1024 * 1024
const MAX_LIST_ENTRIES = 1000
const MAX_GLOB_RESULTS = 100
const MAX_GREP_MATCHES = 100
const MAX_GREP_FILE_BYTES = 10 * 1024 * 1024
const BINARY_SNIFF_BYTES = 8000
/** Characters of a command's output kept in its `metadata.output` (upstream's preview; the tail, as upstream keeps). */
const BASH_METADATA_OUTPUT_CHARS = 30_000

function outside(path: string, why: string) {
  return new PathOutsideDirectoryError({ message: `Access denied: ${JSON.stringify(path)} ${why}`, path })
}

function isInside(base: string, target: string): boolean {
  return target === base || target.startsWith(base.endsWith(sep) ? base : base + sep)
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code
  return code === "ENOENT" || code === "ENOTDIR"
}

/** A glob as a regular expression: `**` any depth, `*` and `?` within a segment, `{a,b}`, `[...]`. */
export function globToRegExp(glob: string): RegExp {
  let out = ""
  let braces = 0
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!
    if (char === "*") {
      if (glob[i + 1] === "*") {
        i++
        if (glob[i + 1] === "/") {
          i++
          out += "(?:.*/)?"
        } else out += ".*"
      } else out += "[^/]*"
    } else if (char === "?") out += "[^/]"
    else if (char === "{") {
      braces++
      out += "(?:"
    } else if (char === "}" && braces > 0) {
      braces--
      out += ")"
    } else if (char === "," && braces > 0) out += "|"
    else if (char === "[") {
      const end = glob.indexOf("]", i + 1)
      if (end < 0) out += "\\["
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")
        out += `[${body}]`
        i = end
      }
    } else out += char.replace(/[.+^$()|\\\]]/g, "\\$&")
  }
  return new RegExp(`^${out}$`)
}

/** A glob without `/` matches a name at any depth, as ripgrep's --glob does. */
function globMatcher(glob: string): (path: string) => boolean {
  const regexp = globToRegExp(glob)
  if (glob.includes("/")) return (path) => regexp.test(path)
  return (path) => regexp.test(path) || regexp.test(path.slice(path.lastIndexOf("/") + 1))
}

function relativeTo(target: ResolvedPath, path: string): string {
  return target.relative ? `${target.relative}/${path}` : path
}

async function directoryTarget(directory: string, path: string | undefined): Promise<ResolvedPath> {
  const target = await resolveInside(directory, path ?? "")
  const info = await lstat(target.real)
  if (!info.isDirectory()) throw new BadRequestError({ message: `Not a directory: ${target.relative || "."}`, kind: "Body" })
  return target
}

async function readConfinedText(directory: string, filePath: string): Promise<{ target: ResolvedPath; text: string }> {
  const target = await resolveInside(directory, filePath)
  const handle = await openConfined(target)
  let bytes: Buffer
  try {
    const info = await handle.stat()
    if (info.isDirectory()) throw new BadRequestError({ message: `Is a directory: ${target.relative}`, kind: "Body" })
    if (!info.isFile()) throw new BadRequestError({ message: `Not a regular file: ${target.relative}`, kind: "Body" })
    if (info.size > MAX_READ_BYTES) throw new BadRequestError({ message: `File too large: ${target.relative} (${info.size} bytes)`, kind: "Body" })
    bytes = await handle.readFile()
  } finally {
    await handle.close()
  }
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    throw new BadRequestError({ message: `Cannot read a binary file as text: ${target.relative}`, kind: "Body" })
  }
  return { target, text: bytes.toString("utf8") }
}

/**
 * Writes a file inside the directory. The path is confined lexically; the nearest existing ancestor must
 * resolve inside the directory's real path before any missing parent is created, and again after; an
 * existing target must be a regular file (a symlink is followed only when it resolves inside); the file
 * is opened without following a last-step symlink and its descriptor's path is checked before it is
 * truncated and written.
 */
async function writeConfined(directory: string, filePath: string, content: string): Promise<{ relative: string; absolute: string; created: boolean }> {
  const confined = confine(directory, filePath)
  if (!confined.relative) throw new BadRequestError({ message: "filePath names the directory itself", kind: "Body" })
  const realDir = await realDirectory(directory)
  let target = confined.absolute
  let created = false
  const existing = await lstat(target).catch((error) => (isMissing(error) ? undefined : Promise.reject(error)))
  if (existing) {
    let real: string
    try {
      real = await realpath(target)
    } catch (error) {
      if (isMissing(error)) throw outside(filePath, "is a symlink to a missing target")
      throw error
    }
    if (!isInside(realDir, real)) throw outside(filePath, "resolves (through a symlink) outside the project directory")
    target = real
  } else {
    created = true
    // the nearest ancestor that exists must already be inside, before anything is created
    let ancestor = dirname(target)
    for (;;) {
      const real = await realpath(ancestor).catch((error) => (isMissing(error) ? undefined : Promise.reject(error)))
      if (real !== undefined) {
        if (!isInside(realDir, real)) throw outside(filePath, "resolves (through a symlink) outside the project directory")
        break
      }
      if (dirname(ancestor) === ancestor) break
      ancestor = dirname(ancestor)
    }
    await mkdir(dirname(target), { recursive: true })
    const realParent = await realpath(dirname(target))
    if (!isInside(realDir, realParent)) throw outside(filePath, "resolves (through a symlink) outside the project directory")
    target = join(realParent, basename(target))
  }
  let handle
  try {
    handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw outside(filePath, "became a symlink")
    if ((error as NodeJS.ErrnoException).code === "EISDIR") throw new BadRequestError({ message: `Is a directory: ${confined.relative}`, kind: "Body" })
    throw error
  }
  try {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined)
    if (opened !== undefined && !isInside(realDir, opened)) throw outside(filePath, "is outside the project directory")
    const info = await handle.stat()
    if (!info.isFile()) throw new BadRequestError({ message: `Not a regular file: ${confined.relative}`, kind: "Body" })
    await handle.truncate(0)
    await handle.write(content, 0, "utf8")
  } finally {
    await handle.close()
  }
  return { relative: confined.relative, absolute: confined.absolute, created }
}

function countOccurrences(text: string, search: string): number {
  let count = 0
  for (let at = text.indexOf(search); at >= 0; at = text.indexOf(search, at + search.length)) count++
  return count
}

/** Runs `bash -c` in its own process group; on timeout the whole group is killed. */
function runBash(cwd: string, command: string, timeoutMs: number, context: RunContext): Promise<{ output: string; exit: number | null; signal: string | null; timedOut: boolean; truncated: boolean }> {
  // no process takes a NUL in its arguments (spawn would throw)
  if (command.includes("\0")) return Promise.reject(new BadRequestError({ message: "command must not contain NUL", kind: "Body" }))
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: process.env })
    if (child.pid !== undefined) context.running.add(child.pid)
    const chunks: Buffer[] = []
    let size = 0
    let truncated = false
    let timedOut = false
    let settled = false
    const collect = (chunk: Buffer) => {
      if (size >= MAX_BASH_OUTPUT_BYTES) return void (truncated = true)
      const keep = chunk.subarray(0, MAX_BASH_OUTPUT_BYTES - size)
      if (keep.length < chunk.length) truncated = true
      chunks.push(keep)
      size += keep.length
    }
    child.stdout!.on("data", collect)
    child.stderr!.on("data", collect)
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL")
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, timeoutMs)
    // the service closed while this command was starting
    if (context.closed) killGroup()
    let exit: number | null = null
    let signal: string | null = null
    const finish = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ output: Buffer.concat(chunks).toString("utf8"), exit, signal, timedOut, truncated })
    }
    child.on("error", (error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reject(error)
    })
    child.on("exit", (code, sig) => {
      context.running.delete(child.pid!)
      exit = code
      signal = sig
      // a background process may hold the pipes open: do not wait for it for long
      setTimeout(finish, 500).unref()
    })
    child.on("close", finish)
  })
}

/** What a tool run may use of its service: the process groups of the commands running now. */
interface RunContext {
  running: Set<number>
  closed: boolean
}

type Runner<T extends MachineToolID> = (directory: string, args: ToolArgs<T>, context: RunContext) => Promise<ToolResult>

const RUNNERS: { [T in MachineToolID]: Runner<T> } = {
  async read(directory, args) {
    const { target, text } = await readConfinedText(directory, args.filePath)
    const lines = text.split("\n")
    if (text.endsWith("\n")) lines.pop()
    const offset = args.offset ?? 0
    const limit = args.limit ?? DEFAULT_READ_LINES
    const slice = lines.slice(offset, offset + limit)
    const numbered = slice.map((line, index) => {
      const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}...` : line
      return `${String(offset + index + 1).padStart(5, "0")}| ${shown}`
    })
    const more = offset + slice.length < lines.length
    const output = [
      "<file>",
      ...numbered,
      more ? `\n(File has more lines. Use 'offset' to read beyond line ${offset + slice.length})` : `\n(End of file - total ${lines.length} lines)`,
      "</file>",
    ].join("\n")
    return {
      title: target.relative,
      output,
      metadata: { preview: slice.slice(0, 20).join("\n"), lines: lines.length, truncated: more },
    }
  },

  async list(directory, args) {
    const target = await directoryTarget(directory, args.path)
    const rules = await IgnoreRules.load(target.real)
    const entries: string[] = []
    let truncated = false
    for await (const entry of walk(target.real, rules, { maxEntries: MAX_LIST_ENTRIES + 1 })) {
      if (entries.length >= MAX_LIST_ENTRIES) {
        truncated = true
        break
      }
      entries.push(entry.type === "directory" ? `${entry.path}/` : entry.path)
    }
    const header = `${target.relative || "."}/`
    const output = [header, ...entries.map((path) => `  ${path}`), ...(truncated ? [`(truncated at ${MAX_LIST_ENTRIES} entries)`] : [])].join("\n")
    return { title: target.relative || ".", output, metadata: { count: entries.length, truncated } }
  },

  async glob(directory, args) {
    const target = await directoryTarget(directory, args.path)
    const matches = globMatcher(args.pattern)
    const rules = await IgnoreRules.load(target.real)
    const found: string[] = []
    let truncated = false
    for await (const entry of walk(target.real, rules)) {
      if (entry.type === "directory" || !matches(entry.path)) continue
      if (found.length >= MAX_GLOB_RESULTS) {
        truncated = true
        break
      }
      found.push(relativeTo(target, entry.path))
    }
    const output = found.length ? [...found, ...(truncated ? [`(results truncated at ${MAX_GLOB_RESULTS})`] : [])].join("\n") : "No files found"
    return { title: args.pattern, output, metadata: { count: found.length, truncated } }
  },

  async grep(directory, args) {
    let regexp: RegExp
    try {
      regexp = new RegExp(args.pattern)
    } catch (error) {
      throw new BadRequestError({ message: `Invalid regular expression: ${(error as Error).message}`, kind: "Body" })
    }
    const target = await directoryTarget(directory, args.path)
    const include = args.include ? globMatcher(args.include) : undefined
    const rules = await IgnoreRules.load(target.real)
    const hits: string[] = []
    let truncated = false
    outer: for await (const entry of walk(target.real, rules)) {
      // symlinks are never followed: they may point outside the directory
      if (entry.type !== "file" || (include && !include(entry.path))) continue
      const file = join(target.real, entry.path)
      const info = await lstat(file).catch(() => undefined)
      if (!info?.isFile() || info.size > MAX_GREP_FILE_BYTES) continue
      const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined)
      if (!handle) continue
      const bytes = await handle.readFile().finally(() => handle.close())
      if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) continue
      const lines = bytes.toString("utf8").split("\n")
      for (let index = 0; index < lines.length; index++) {
        if (!regexp.test(lines[index]!)) continue
        if (hits.length >= MAX_GREP_MATCHES) {
          truncated = true
          break outer
        }
        const line = lines[index]!
        hits.push(`${relativeTo(target, entry.path)}:${index + 1}: ${line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}...` : line}`)
      }
    }
    const output = hits.length ? [...hits, ...(truncated ? [`(results truncated at ${MAX_GREP_MATCHES})`] : [])].join("\n") : "No matches found"
    return { title: args.pattern, output, metadata: { matches: hits.length, truncated } }
  },

  async write(directory, args) {
    const { relative, absolute, created } = await writeConfined(directory, args.filePath, args.content)
    return {
      title: relative,
      output: `${created ? "Created" : "Wrote"} ${relative} (${Buffer.byteLength(args.content)} bytes)`,
      // `filepath` and `exists` as upstream's write records them
      metadata: { filePath: relative, created, bytes: Buffer.byteLength(args.content), filepath: absolute, exists: !created, diagnostics: {} },
    }
  },

  async edit(directory, args) {
    if (args.oldString === args.newString) throw new BadRequestError({ message: "oldString and newString are the same", kind: "Body" })
    const { target, text } = await readConfinedText(directory, args.filePath)
    const count = countOccurrences(text, args.oldString)
    if (count === 0) throw new BadRequestError({ message: `oldString not found in ${target.relative}`, kind: "Body" })
    if (count > 1 && !args.replaceAll) {
      throw new BadRequestError({
        message: `oldString occurs ${count} times in ${target.relative}; give more context or set replaceAll`,
        kind: "Body",
      })
    }
    const next = args.replaceAll ? text.split(args.oldString).join(args.newString) : text.replace(args.oldString, () => args.newString)
    await writeConfined(directory, args.filePath, next)
    // The web app's timeline draws the edit from `filediff`, and the TUI from `diff`: the whole file's change, as upstream records it.
    const { patch, additions, deletions } = unifiedDiff(target.absolute, text, next)
    return {
      title: target.relative,
      output: `Edited ${target.relative}: ${args.replaceAll ? count : 1} replacement${(args.replaceAll ? count : 1) === 1 ? "" : "s"}`,
      metadata: {
        filePath: target.relative,
        replacements: args.replaceAll ? count : 1,
        diff: patch,
        filediff: { file: target.absolute, patch, additions, deletions },
        diagnostics: {},
      },
    }
  },

  async bash(directory, args, context) {
    const cwd = await realDirectory(directory)
    const timeout = args.timeout ?? BASH_DEFAULT_TIMEOUT_MS
    const result = await runBash(cwd, args.command, timeout, context)
    let output = result.output
    if (result.truncated) output += `\n(output truncated at ${MAX_BASH_OUTPUT_BYTES} bytes)`
    if (result.timedOut) output += `\n(command timed out after ${timeout} ms and was killed)`
    return {
      title: args.description ?? args.command,
      output,
      metadata: {
        // Clients render a command's output from here (the official TUI's bash block reads only this), as upstream's bash sets it.
        output: output.length > BASH_METADATA_OUTPUT_CHARS ? `...\n\n${output.slice(-BASH_METADATA_OUTPUT_CHARS)}` : output,
        exit: result.exit,
        signal: result.signal,
        timedOut: result.timedOut,
        truncated: result.truncated,
        ...(args.description !== undefined ? { description: args.description } : {}),
      },
    }
  },
}

/** The built-in tools on this machine's disk and shell; every path confined as /file's (confine.ts). */
export function createToolService(): ToolService & { closeAll(): void } {
  const context: RunContext = { running: new Set(), closed: false }
  return {
    /** Kills the process group of every command still running (the agent is stopping). */
    closeAll() {
      context.closed = true
      for (const pid of context.running) {
        try {
          process.kill(-pid, "SIGKILL")
        } catch {
          // already gone
        }
      }
      context.running.clear()
    },
    async execute(directory, toolID, args) {
      if (!isMachineToolID(toolID)) throw new NotFoundError({ message: `Unknown machine tool: ${toolID}` })
      const run = RUNNERS[toolID] as Runner<MachineToolID>
      return run(directory, parseToolArguments(toolID, args) as never, context)
    },
  }
}
