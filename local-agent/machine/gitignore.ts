import { readFile } from "node:fs/promises"
import { join, relative, sep } from "node:path"
import ignore, { type Ignore } from "ignore"
import { findRepository } from "./git.ts"

/**
 * Git's ignore rules for one directory: every `.gitignore` from the repository root (or the directory
 * itself outside git) down to the path, deeper files overriding shallower ones, plus `.git/info/exclude`.
 * A path under an ignored directory is ignored; `.git` is always ignored. Rules are read lazily and cached
 * for the life of the object (`invalidate()` forgets them when a `.gitignore` changes).
 */
export class IgnoreRules {
  private matchers = new Map<string, Promise<Ignore | undefined>>()
  private directoryResults = new Map<string, boolean>()

  private constructor(
    /** Where the rules start: the repository root, or the directory outside git. */
    private readonly root: string,
    /** The directory's path below `root` as segments (empty when they are the same). */
    private readonly prefix: string[],
    private readonly gitDir: string | undefined,
  ) {}

  /** Rules for paths relative to `directory` (an absolute, real path). */
  static async load(directory: string): Promise<IgnoreRules> {
    const repository = await findRepository(directory)
    const root = repository?.root ?? directory
    const below = relative(root, directory)
    return new IgnoreRules(root, below ? below.split(sep) : [], repository?.gitDir)
  }

  invalidate(): void {
    this.matchers.clear()
    this.directoryResults.clear()
  }

  /** Whether `path` (relative to the directory, "/"-separated; "" is the directory itself) is ignored. */
  async ignored(path: string, isDirectory: boolean): Promise<boolean> {
    const segments = [...this.prefix, ...path.split("/").filter(Boolean)]
    if (segments.length === 0) return false
    if (segments.includes(".git")) return true
    for (let depth = 1; depth < segments.length; depth++) {
      if (await this.directoryIgnored(segments.slice(0, depth))) return true
    }
    return isDirectory ? this.directoryIgnored(segments) : this.match(segments, false)
  }

  private async directoryIgnored(segments: string[]): Promise<boolean> {
    const key = segments.join("/")
    const known = this.directoryResults.get(key)
    if (known !== undefined) return known
    const result = await this.match(segments, true)
    this.directoryResults.set(key, result)
    return result
  }

  /** This path alone against the rules of each directory above it, deepest last (its verdict wins). */
  private async match(segments: string[], isDirectory: boolean): Promise<boolean> {
    let ignored = false
    for (let depth = 0; depth < segments.length; depth++) {
      const matcher = await this.matcher(segments.slice(0, depth).join("/"))
      if (!matcher) continue
      const result = matcher.test(segments.slice(depth).join("/") + (isDirectory ? "/" : ""))
      if (result.ignored) ignored = true
      else if (result.unignored) ignored = false
    }
    return ignored
  }

  private matcher(directory: string): Promise<Ignore | undefined> {
    let matcher = this.matchers.get(directory)
    if (!matcher) {
      matcher = (async () => {
        const sources: string[] = []
        if (directory === "" && this.gitDir) sources.push(join(this.gitDir, "info", "exclude"))
        sources.push(join(this.root, directory, ".gitignore"))
        const texts = await Promise.all(sources.map((file) => readFile(file, "utf8").catch(() => undefined)))
        const rules = texts.filter((text): text is string => text !== undefined)
        if (rules.length === 0) return undefined
        const matcher = ignore({ ignorecase: false })
        for (const text of rules) matcher.add(text)
        return matcher
      })()
      this.matchers.set(directory, matcher)
    }
    return matcher
  }
}
