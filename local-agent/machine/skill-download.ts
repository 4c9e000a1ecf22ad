import { randomUUID } from "node:crypto"
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises"
import { dirname, join, resolve, sep } from "node:path"
import { z } from "zod"
import type { Logger } from "../../shared/ports.ts"

const SKILL_FILE = "SKILL.md"
/** Beside a downloaded skill: the index's `version` it was downloaded at. */
const VERSION_FILE = ".opencode-version"
/** Skills downloaded at once, and files of one skill at once (upstream's limits). */
const SKILL_CONCURRENCY = 4
const FILE_CONCURRENCY = 8
/** A server that never answers does not hold up every skill listing (upstream waits forever). */
const REQUEST_TIMEOUT_MS = 15_000

/** A `skills.urls` server's `index.json`: each skill's name, its files (relative to `<url>/<name>/`), an optional version. */
const SkillIndex = z.object({
  skills: z.array(z.object({ name: z.string(), files: z.array(z.string()), version: z.string().optional() })),
})
type IndexedSkill = z.infer<typeof SkillIndex>["skills"][number]

/**
 * The skills of a `skills.urls` entry, downloaded as upstream's (v1) skill discovery does: `<url>/index.json` lists
 * them; each skill whose files include SKILL.md is kept under `<cache>/skills/<name>/` and its files fetched from
 * `<url>/<name>/<file>`. A file already there is not fetched again, unless the index gives the skill a version
 * other than the one it was downloaded at: then all its files are fetched into a new folder that replaces the old
 * one only when every file came. Answers the skill folders that hold a SKILL.md; an index that cannot be had
 * answers none. Names and files that would leave the cache folder are skipped (upstream's v2 refuses them too).
 */
export async function downloadSkills(url: string, cacheFolder: string, log?: Logger): Promise<string[]> {
  const base = url.endsWith("/") ? url : `${url}/`
  const indexUrl = new URL("index.json", base).href
  const index = await fetchIndex(indexUrl).catch((error) => {
    log?.error("failed to fetch skill index", { url: indexUrl, error: String(error) })
    return undefined
  })
  if (!index) return []
  const root = join(cacheFolder, "skills")
  const skills = index.skills.filter((skill) => {
    if (skill.files.includes(SKILL_FILE)) return true
    log?.warn("skill entry missing SKILL.md", { url: indexUrl, skill: skill.name })
    return false
  })
  const folders = await inBatches(skills, SKILL_CONCURRENCY, async (skill) => {
    const folder = resolve(root, skill.name)
    if (!inside(root, folder) || !skill.files.every((file) => inside(folder, resolve(folder, file)))) return undefined
    const fileUrl = (file: string) => new URL(file, `${base.slice(0, -1)}/${skill.name}/`).href
    await refresh(skill, folder, fileUrl, log).catch((error) => log?.error("failed to refresh skill", { skill: skill.name, error: String(error) }))
    return (await exists(join(folder, SKILL_FILE))) ? folder : undefined
  })
  return folders.filter((folder): folder is string => folder !== undefined)
}

async function refresh(skill: IndexedSkill, folder: string, fileUrl: (file: string) => string, log?: Logger): Promise<void> {
  const stored = skill.version === undefined ? undefined : await readFile(join(folder, VERSION_FILE), "utf8").catch(() => undefined)
  if (skill.version === undefined || stored === skill.version) {
    await inBatches(skill.files, FILE_CONCURRENCY, (file) => download(fileUrl(file), join(folder, file), log))
    return
  }
  // A new version: downloaded aside, swapped in whole.
  const id = randomUUID()
  const fresh = `${folder}.tmp-${id}`
  const old = `${folder}.old-${id}`
  try {
    const done = await inBatches(skill.files, FILE_CONCURRENCY, (file) => download(fileUrl(file), join(fresh, file), log))
    if (!done.every(Boolean) || !(await exists(join(fresh, SKILL_FILE)))) return
    await writeFile(join(fresh, VERSION_FILE), skill.version)
    const had = await exists(folder)
    if (had) await rename(folder, old)
    try {
      await rename(fresh, folder)
    } catch (error) {
      if (had) await rename(old, folder).catch(() => {})
      throw error
    }
    if (had) await rm(old, { recursive: true, force: true })
  } finally {
    await rm(fresh, { recursive: true, force: true })
  }
}

/** Fetches a file unless it is already there; false (logged) when it could not be had. */
async function download(url: string, destination: string, log?: Logger): Promise<boolean> {
  if (await exists(destination)) return true
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    const body = new Uint8Array(await response.arrayBuffer())
    await mkdir(dirname(destination), { recursive: true })
    await writeFile(destination, body)
    return true
  } catch (error) {
    log?.error("failed to download", { url, error: String(error) })
    return false
  }
}

async function fetchIndex(url: string): Promise<z.infer<typeof SkillIndex>> {
  const response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  return SkillIndex.parse(await response.json())
}

const exists = (path: string) => access(path).then(() => true, () => false)
const inside = (folder: string, path: string) => path.startsWith(folder + sep)

/** Each item through `run`, at most `limit` at a time, the answers in the items' order. */
async function inBatches<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const answers: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const at = next++
      answers[at] = await run(items[at]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return answers
}
