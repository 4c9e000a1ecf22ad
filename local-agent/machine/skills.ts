import { readdir, readFile, realpath, stat } from "node:fs/promises"
import { homedir } from "node:os"
import { dirname, isAbsolute, join, resolve } from "node:path"
import type { SkillFileService } from "../../shared/machine.ts"
import type { Logger } from "../../shared/ports.ts"
import { SKILL_FILE_SAMPLE, type SkillFile } from "../../shared/schema/skill.ts"
import type { ConfigEnvironment } from "./config.ts"
import { findRepository } from "./git.ts"
import { downloadSkills } from "./skill-download.ts"

const SKILL_FILE = "SKILL.md"
/** Entries looked at under one folder at most: a skills path pointed at a huge tree stops there. */
const MAX_ENTRIES = 20_000

/** How long a `skills.urls` download is reused: the skills are read for every listing and every turn. */
const DOWNLOAD_REUSE_MS = 60_000

const truthy = (value: string | undefined) => value === "1" || value?.toLowerCase() === "true"

/** A folder that may hold skills, and what is searched there. */
interface SkillRoot {
  folder: string
  /** The subfolders searched (none: the folder itself). */
  under: string[]
  /** Whether hidden folders are searched too (upstream does for the `.claude` and `.agents` folders). */
  dot: boolean
  /** Not opencode's own (the `.claude` and `.agents` folders, downloaded skills): upstream's v2 listing leaves them out. */
  external: boolean
}

/** The user's SKILL.md files on this machine, found where upstream looks (see SkillFileService.find). */
export function createSkillFileService(environment: ConfigEnvironment = { env: process.env, home: homedir() }, log?: Logger): SkillFileService {
  const { env, home } = environment
  /** Upstream's cache folder, where `skills.urls` downloads go (under `skills/`). */
  const cacheFolder = join(env.XDG_CACHE_HOME || join(home, ".cache"), "opencode")
  const downloads = new Map<string, { at: number; folders: Promise<string[]> }>()

  function downloaded(url: string): Promise<string[]> {
    const recent = downloads.get(url)
    if (recent && Date.now() - recent.at < DOWNLOAD_REUSE_MS) return recent.folders
    const folders = downloadSkills(url, cacheFolder, log)
    downloads.set(url, { at: Date.now(), folders })
    return folders
  }

  async function roots(directory: string, paths: string[], urls: string[]): Promise<SkillRoot[]> {
    const found: SkillRoot[] = []
    const worktree = (await findRepository(directory))?.root ?? directory
    if (!truthy(env.OPENCODE_DISABLE_EXTERNAL_SKILLS)) {
      const claude = !truthy(env.OPENCODE_DISABLE_CLAUDE_CODE) && !truthy(env.OPENCODE_DISABLE_CLAUDE_CODE_SKILLS)
      const names = [...(claude ? [".claude"] : []), ".agents"]
      for (const name of names) found.push({ folder: join(home, name), under: ["skills"], dot: true, external: true })
      // From the directory up to the worktree root, nearest first.
      for (let folder = directory; ; folder = dirname(folder)) {
        for (const name of names) found.push({ folder: join(folder, name), under: ["skills"], dot: true, external: true })
        if (folder === worktree || dirname(folder) === folder) break
      }
    }
    for (const folder of configFolders(directory, worktree)) found.push({ folder, under: ["skill", "skills"], dot: false, external: false })
    for (const path of paths) {
      const expanded = path.startsWith("~/") ? join(home, path.slice(2)) : path
      found.push({ folder: isAbsolute(expanded) ? expanded : resolve(directory, expanded), under: [], dot: false, external: false })
    }
    for (const url of urls) {
      for (const folder of await downloaded(url)) found.push({ folder, under: [], dot: false, external: true })
    }
    return found
  }

  /** The config folders, as the config's own lookup orders them: global, the project's `.opencode` folders root first, `~/.opencode`, OPENCODE_CONFIG_DIR. */
  function configFolders(directory: string, worktree: string): string[] {
    const project: string[] = []
    if (!truthy(env.OPENCODE_DISABLE_PROJECT_CONFIG)) {
      for (let folder = directory; ; folder = dirname(folder)) {
        project.unshift(join(folder, ".opencode"))
        if (folder === worktree || dirname(folder) === folder) break
      }
    }
    const folders = new Set([join(env.XDG_CONFIG_HOME || join(home, ".config"), "opencode"), ...project, join(home, ".opencode")])
    if (env.OPENCODE_CONFIG_DIR) folders.add(resolve(env.OPENCODE_CONFIG_DIR))
    return [...folders]
  }

  return {
    async find(directory, paths, urls) {
      const locations = new Map<string, boolean>()
      for (const root of await roots(directory, paths, urls)) {
        const starts = root.under.length ? root.under.map((name) => join(root.folder, name)) : [root.folder]
        for (const start of starts) {
          for (const location of await skillFiles(start, root.dot)) if (!locations.has(location)) locations.set(location, root.external)
        }
      }
      const files = await Promise.all(
        [...locations].map(async ([location, external]): Promise<SkillFile | undefined> => {
          const text = await readFile(location, "utf8").catch(() => undefined)
          if (text === undefined) return undefined
          return { location, text, files: await sample(dirname(location)), external }
        }),
      )
      return files.filter((file): file is SkillFile => file !== undefined)
    },
  }
}

/** Every SKILL.md at any depth under `folder`, in name order; symlinks are followed (each real folder once). */
async function skillFiles(folder: string, dot: boolean): Promise<string[]> {
  const found: string[] = []
  const seen = new Set<string>()
  let budget = MAX_ENTRIES
  async function visit(path: string): Promise<void> {
    const real = await realpath(path).catch(() => undefined)
    if (!real || seen.has(real)) return
    seen.add(real)
    const entries = await readdir(path, { withFileTypes: true }).catch(() => [])
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      if (--budget < 0) return
      if (!dot && entry.name.startsWith(".")) continue
      const child = join(path, entry.name)
      const kind = entry.isSymbolicLink() ? await stat(child).catch(() => undefined) : entry
      if (!kind) continue
      if (kind.isDirectory()) await visit(child)
      else if (kind.isFile() && entry.name === SKILL_FILE) found.push(child)
    }
  }
  await visit(folder)
  return found
}

/** Up to SKILL_FILE_SAMPLE files in a skill's folder besides its SKILL.md, hidden ones too, symlinks not followed. */
async function sample(folder: string): Promise<string[]> {
  const files: string[] = []
  async function visit(path: string): Promise<void> {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => [])
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      if (files.length >= SKILL_FILE_SAMPLE) return
      if (entry.name === ".git") continue
      const child = join(path, entry.name)
      if (entry.isDirectory()) await visit(child)
      else if (entry.name !== SKILL_FILE) files.push(child)
    }
  }
  await visit(folder)
  return files
}
