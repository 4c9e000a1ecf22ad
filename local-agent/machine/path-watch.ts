import { watch, type FSWatcher } from "node:fs"
import { basename, dirname } from "node:path"

/** What a change does to a kept result: nothing kept survives it. */
export interface PathWatch {
  /**
   * Watches `path` (a file or folder that may not exist yet): a change to it calls `onChange`. Call before
   * reading, so no change after the read goes unseen.
   */
  look(path: string): void
  /** Bumped by every change: a result computed across a change is not kept. */
  readonly generation: number
  /** A watch could not be set (too many watches): nothing may be kept until the next change. */
  readonly blind: boolean
  close(): void
}

interface Watched {
  watcher: FSWatcher
  /** The entries of the folder that matter. */
  names: Set<string>
}

/** Folders that are not there (yet): their parent is watched instead. */
const MISSING = new Set(["ENOENT", "ENOTDIR"])

/**
 * One non-recursive `fs.watch` (inotify) per folder that holds a watched path, filtered by entry name, so
 * unrelated churn in a project folder does not count. A path whose folder is missing is watched through the
 * nearest folder that exists (creating the folder is a change). Any change closes every watch and calls
 * `onChange`: the caller drops what it kept, and the next read watches again.
 */
export function createPathWatch(onChange: () => void): PathWatch {
  const folders = new Map<string, Watched>()
  let generation = 0
  let blind = false

  function changed() {
    generation++
    blind = false
    for (const { watcher } of folders.values()) watcher.close()
    folders.clear()
    onChange()
  }

  function watchFolder(folder: string, name: string) {
    const known = folders.get(folder)
    if (known) {
      known.names.add(name)
      return
    }
    let watcher: FSWatcher
    try {
      watcher = watch(folder, { persistent: false }, (_event, filename) => {
        const names = folders.get(folder)?.names
        // No name (the kernel's queue overflowed) or the folder itself gone: count it as a change.
        if (!names || !filename || names.has(String(filename)) || String(filename) === basename(folder)) changed()
      })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? ""
      if (MISSING.has(code) && dirname(folder) !== folder) watchFolder(dirname(folder), basename(folder))
      else blind = true
      return
    }
    watcher.on("error", changed)
    folders.set(folder, { watcher, names: new Set([name]) })
  }

  return {
    look(path) {
      if (dirname(path) !== path) watchFolder(dirname(path), basename(path))
    },
    get generation() {
      return generation
    },
    get blind() {
      return blind
    },
    close() {
      for (const { watcher } of folders.values()) watcher.close()
      folders.clear()
    },
  }
}
