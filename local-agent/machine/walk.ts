import { readdir } from "node:fs/promises"
import { join } from "node:path"
import type { IgnoreRules } from "./gitignore.ts"

export interface WalkEntry {
  /** "/"-separated, relative to the walked directory. */
  path: string
  type: "file" | "directory" | "symlink"
}

/** Names in byte order, as ripgrep's `--sort path` orders them. */
function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/**
 * Depth-first, in name order, the entries under `root` (a real path) that the ignore rules keep. `.git` and
 * ignored entries are skipped with everything below them; symlinks are reported but never followed.
 * Stops after `maxEntries` entries.
 */
export async function* walk(root: string, rules: IgnoreRules, options: { maxEntries?: number } = {}): AsyncGenerator<WalkEntry> {
  const budget = { left: options.maxEntries ?? 200_000 }
  yield* walkDirectory(root, "", rules, budget)
}

async function* walkDirectory(root: string, directory: string, rules: IgnoreRules, budget: { left: number }): AsyncGenerator<WalkEntry> {
  let entries
  try {
    entries = await readdir(directory ? join(root, directory) : root, { withFileTypes: true })
  } catch {
    return // removed meanwhile, or unreadable
  }
  entries.sort(byName)
  for (const entry of entries) {
    if (budget.left <= 0) return
    if (entry.name === ".git") continue
    const path = directory ? `${directory}/${entry.name}` : entry.name
    const type = entry.isSymbolicLink() ? "symlink" : entry.isDirectory() ? "directory" : entry.isFile() ? "file" : undefined
    if (!type) continue
    if (await rules.ignored(path, type === "directory")) continue
    budget.left--
    yield { path, type }
    if (type === "directory") yield* walkDirectory(root, path, rules, budget)
  }
}
