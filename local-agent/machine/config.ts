import { readdir, readFile, stat } from "node:fs/promises"
import { homedir } from "node:os"
import { basename, dirname, isAbsolute, join, resolve } from "node:path"
import type { ConfigFileService } from "../../shared/machine.ts"
import type { ConfigSource, InstructionFile } from "../../shared/config/source.ts"
import { ConfigJsonError } from "../../shared/config/errors.ts"
import { findRepository } from "./git.ts"
import { substitute } from "./config-substitute.ts"

/** Whose config is read: the environment (`OPENCODE_CONFIG*`, `XDG_CONFIG_HOME`, `{env:}`) and the home folder. */
export interface ConfigEnvironment {
  env: Record<string, string | undefined>
  home: string
}

/** Files whose text is kept, by path; the least recently read is dropped past this many. */
const MAX_CACHED_FILES = 512
/** How long after its last change a file's time is taken to tell every later change apart. */
const RACY_MS = 2_000
/** A path that is not there, or not a file: no config, not an error. */
const ABSENT = new Set(["ENOENT", "ENOTDIR", "EISDIR"])

const truthy = (value: string | undefined) => value === "1" || value?.toLowerCase() === "true"

/**
 * The user's config files on this machine, found as upstream finds them (see ConfigFileService.sources). Each
 * call stats the candidates and lists the agent and command folders, but reads a file again only when its
 * mtime, size or inode changed (or it changed moments ago), so repeat calls are cheap and an edit is seen by the
 * next request.
 */
export function createConfigFileService(environment: ConfigEnvironment = { env: process.env, home: homedir() }): ConfigFileService {
  const { env, home } = environment
  const texts = new Map<string, { version: string; text: string; readAt: number }>()

  async function readText(path: string): Promise<string | undefined> {
    let version: string
    let modified: number
    try {
      const info = await stat(path)
      if (!info.isFile()) return undefined
      version = `${info.mtimeMs}:${info.size}:${info.ino}`
      modified = info.mtimeMs
    } catch (error) {
      if (ABSENT.has((error as NodeJS.ErrnoException).code ?? "")) return undefined
      throw unreadable(path, error)
    }
    const cached = texts.get(path)
    // File times tick coarsely (a few ms, a second on some file systems): a text read while its file was that fresh
    // may have been rewritten since with the same size and time, so it is trusted only once it was read well after.
    const trusted = cached?.version === version && cached.readAt - modified > RACY_MS
    const readAt = trusted ? cached.readAt : Date.now()
    const text = trusted
      ? cached.text
      : await readFile(path, "utf8").catch((error) => {
          throw unreadable(path, error)
        })
    // Re-inserted, so the map's first entry is the least recently read.
    texts.delete(path)
    texts.set(path, { version, text, readAt })
    if (texts.size > MAX_CACHED_FILES) texts.delete(texts.keys().next().value!)
    return text
  }

  /** A JSON(C) file, substituted, as a source; nothing when it is not there. */
  async function json(path: string): Promise<ConfigSource[]> {
    const text = await readText(path)
    if (text === undefined) return []
    return [{ path, kind: "json", text: await substitute(text, { path, base: dirname(path), env, home, readText }) }]
  }

  /** `<folder>/<name>/*.md` for each of `names` the folder has (`present`), sorted, as agents or commands named by their file. */
  async function markdown(folder: string, present: Set<string>, names: string[], kind: "agent" | "command"): Promise<ConfigSource[]> {
    const out: ConfigSource[] = []
    for (const name of names) {
      if (!present.has(name)) continue
      const entries = await readdir(join(folder, name)).catch(() => [] as string[])
      for (const entry of entries.filter((file) => file.endsWith(".md")).sort()) {
        const path = join(folder, name, entry)
        const text = await readText(path)
        if (text !== undefined) out.push({ path, kind, name: entry.slice(0, -".md".length), text })
      }
    }
    return out
  }

  /** The directory and its parents up to the worktree root (the git toplevel; the directory alone outside git), root first. */
  async function projectFolders(directory: string): Promise<string[]> {
    const root = (await findRepository(directory))?.root ?? directory
    const folders = [directory]
    let folder = directory
    while (folder !== root && dirname(folder) !== folder) {
      folder = dirname(folder)
      folders.unshift(folder)
    }
    return folders
  }

  /** The first of `names` that `folder` has, as an instruction file. */
  async function firstOf(folder: string, names: string[]): Promise<InstructionFile | undefined> {
    for (const name of names) {
      const path = join(folder, name)
      const text = await readText(path).catch(() => undefined)
      if (text?.trim()) return { path, text }
    }
    return undefined
  }

  return {
    async instructions(directory, extra) {
      const globalFolder = join(env.XDG_CONFIG_HOME || join(home, ".config"), "opencode")
      const folders = await projectFolders(directory)
      const found = await Promise.all(folders.map((folder) => firstOf(folder, ["AGENTS.md", "CLAUDE.md"])))
      found.push((await firstOf(globalFolder, ["AGENTS.md"])) ?? (await firstOf(join(home, ".claude"), ["CLAUDE.md"])))
      for (const entry of extra) {
        if (isAbsolute(entry) || entry.startsWith("~/")) {
          const path = entry.startsWith("~/") ? join(home, entry.slice(2)) : entry
          found.push(await firstOf(dirname(path), [basename(path)]))
        } else {
          // Nearest first: the directory, then each folder above it up to the worktree root.
          let hit: InstructionFile | undefined
          for (const folder of [...folders].reverse()) if (!hit) hit = await firstOf(folder, [entry])
          found.push(hit)
        }
      }
      const seen = new Set<string>()
      return found.filter((file): file is InstructionFile => file !== undefined && !seen.has(file.path) && seen.add(file.path) !== undefined)
    },

    async sources(directory) {
      const globalFolder = join(env.XDG_CONFIG_HOME || join(home, ".config"), "opencode")
      const configDir = env.OPENCODE_CONFIG_DIR ? resolve(env.OPENCODE_CONFIG_DIR) : undefined
      const project = truthy(env.OPENCODE_DISABLE_PROJECT_CONFIG) ? [] : await projectFolders(directory)
      // Read at once, listed in precedence order.
      const parts: Promise<ConfigSource[]>[] = []
      // As upstream: the global opencode.json, then its opencode.jsonc over it.
      parts.push(json(join(globalFolder, "opencode.json")), json(join(globalFolder, "opencode.jsonc")))
      if (env.OPENCODE_CONFIG) parts.push(json(resolve(env.OPENCODE_CONFIG)))
      for (const folder of project) parts.push(json(join(folder, "opencode.jsonc")), json(join(folder, "opencode.json")))
      const inline = env.OPENCODE_CONFIG_CONTENT
      if (inline) {
        const path = "OPENCODE_CONFIG_CONTENT"
        parts.push(substitute(inline, { path, base: directory, env, home, readText }).then((text) => [{ path, kind: "json", text }]))
      }
      const folders = new Set([globalFolder, ...project.map((folder) => join(folder, ".opencode")), join(home, ".opencode")])
      if (configDir) folders.add(configDir)
      for (const folder of folders) {
        // One listing tells what a config folder holds (most of them do not exist): nothing else is looked up in vain.
        parts.push(
          readdir(folder).then(
            async (names) => {
              const present = new Set(names)
              const found: Promise<ConfigSource[]>[] = []
              // The global folder brings agents and commands only: its opencode.json came first.
              if (folder !== globalFolder || folder === configDir) {
                for (const name of ["opencode.jsonc", "opencode.json"]) if (present.has(name)) found.push(json(join(folder, name)))
              }
              found.push(markdown(folder, present, ["agent", "agents"], "agent"), markdown(folder, present, ["command", "commands"], "command"))
              return (await Promise.all(found)).flat()
            },
            () => [],
          ),
        )
      }
      return (await Promise.all(parts)).flat()
    },
  }
}

function unreadable(path: string, error: unknown): InstanceType<typeof ConfigJsonError> {
  const reason = (error as NodeJS.ErrnoException).code ?? String(error)
  return new ConfigJsonError({ path, message: `${path}: cannot be read (${reason})` }, { cause: error })
}
