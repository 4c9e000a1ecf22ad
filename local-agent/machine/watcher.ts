import { watch, type FSWatcher } from "node:fs"
import { lstat, readdir, realpath } from "node:fs/promises"
import { join } from "node:path"
import type { EventProperties } from "../../shared/schema/event.ts"
import { findRepository, readHeadBranch } from "./git.ts"
import { IgnoreRules } from "./gitignore.ts"

export type WatchedEvent = "file.watcher.updated" | "vcs.branch.updated"
export type WatcherPublish = <T extends WatchedEvent>(type: T, properties: EventProperties<T>) => Promise<void>
type FileEvent = EventProperties<"file.watcher.updated">["event"]

export interface WatcherOptions {
  /** Events for one path within this window are merged into one (default 50 ms). */
  debounceMs?: number
  /** At most this many directories are watched; deeper trees go unwatched (default 8192). */
  maxDirectories?: number
  onError?: (message: string) => void
}

export interface DirectoryWatcher {
  close(): void
}

/**
 * Watches `directory` and publishes `file.watcher.updated` ({file: absolute path, event: add|change|unlink})
 * for files and directories that are not ignored, and `vcs.branch.updated` when the repository's HEAD
 * names another branch. Resolves once the tree is being watched; rejects when the directory does not exist.
 *
 * One non-recursive `fs.watch` (inotify) per directory that is not .gitignore'd and not `.git`, added as
 * directories appear. Node 20's `recursive: true` on Linux is a JavaScript emulation that synchronously
 * stats and watches every file and directory of the tree, ignored ones (node_modules, .git) included, and
 * reports every existing file as a change when it starts; a watch per kept directory avoids all three.
 */
export async function watchDirectory(directory: string, publish: WatcherPublish, options: WatcherOptions = {}): Promise<DirectoryWatcher> {
  const debounceMs = options.debounceMs ?? 50
  const maxDirectories = options.maxDirectories ?? 8192
  const root = await realpath(directory)
  const rules = await IgnoreRules.load(root)
  const watchers = new Map<string, FSWatcher>()
  const known = new Set<string>()
  const pending = new Map<string, FileEvent>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let closed = false
  let warned = false
  // events are handled one at a time, in arrival order
  let queue: Promise<void> = Promise.resolve()
  const enqueue = (task: () => Promise<void>) => {
    queue = queue.then(task).catch((error) => options.onError?.(`file watcher: ${String(error)}`))
  }

  const flush = () => {
    timer = undefined
    const batch = [...pending]
    pending.clear()
    for (const [path, event] of batch) {
      publish("file.watcher.updated", { file: join(directory, path), event }).catch(() => {})
    }
  }

  const emit = (path: string, event: FileEvent) => {
    if (closed) return
    const previous = pending.get(path)
    pending.set(path, previous === "add" && event === "change" ? "add" : event)
    timer ??= setTimeout(flush, debounceMs)
  }

  const forget = (path: string) => {
    const prefix = path + "/"
    for (const [watched, watcher] of watchers) {
      if (watched === path || watched.startsWith(prefix)) {
        watcher.close()
        watchers.delete(watched)
      }
    }
    for (const entry of known) if (entry.startsWith(prefix)) known.delete(entry)
  }

  const onChange = async (parent: string, name: string) => {
    if (closed || name === ".git") return
    const path = parent ? `${parent}/${name}` : name
    if (name === ".gitignore") rules.invalidate()
    const info = await lstat(join(root, path)).catch(() => undefined)
    if (!info) {
      if (known.delete(path)) {
        forget(path)
        emit(path, "unlink")
      }
      return
    }
    const isDirectory = info.isDirectory()
    if (await rules.ignored(path, isDirectory)) return
    if (!known.has(path)) {
      known.add(path)
      emit(path, "add")
      if (isDirectory) await watchTree(path, true)
    } else if (!isDirectory) {
      emit(path, "change")
    }
  }

  /** Watches `path` and every kept directory below it; `announce` reports what is found as added. */
  const watchTree = async (path: string, announce: boolean): Promise<void> => {
    if (closed || watchers.has(path)) return
    if (watchers.size >= maxDirectories) {
      if (!warned) options.onError?.(`file watcher: more than ${maxDirectories} directories under ${directory}; the rest is not watched`)
      warned = true
      return
    }
    const absolute = path ? join(root, path) : root
    try {
      const watcher = watch(absolute, { persistent: false }, (_event, name) => {
        if (name) enqueue(() => onChange(path, name.toString()))
      })
      watcher.on("error", () => forget(path))
      watchers.set(path, watcher)
    } catch (error) {
      // removed meanwhile, or out of inotify watches
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") options.onError?.(`file watcher: ${String(error)}`)
      return
    }
    const entries = await readdir(absolute, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      if (closed) return
      if (entry.name === ".git") continue
      const child = path ? `${path}/${entry.name}` : entry.name
      const isDirectory = entry.isDirectory()
      if (known.has(child) || (await rules.ignored(child, isDirectory))) continue
      known.add(child)
      if (announce) emit(child, "add")
      if (isDirectory) await watchTree(child, announce)
    }
  }

  await watchTree("", false)

  // HEAD is replaced by a rename from HEAD.lock: watch the git directory itself, not recursively
  let headWatcher: FSWatcher | undefined
  const repository = await findRepository(root)
  if (repository && !closed) {
    let branch = await readHeadBranch(repository.gitDir)
    try {
      headWatcher = watch(repository.gitDir, { persistent: false }, (_event, name) => {
        if (name?.toString() !== "HEAD") return
        enqueue(async () => {
          const next = await readHeadBranch(repository.gitDir)
          if (closed || next === undefined || next === branch) return
          branch = next
          await publish("vcs.branch.updated", { branch: next }).catch(() => {})
        })
      })
      headWatcher.on("error", () => headWatcher?.close())
    } catch (error) {
      options.onError?.(`file watcher: cannot watch ${repository.gitDir}: ${String(error)}`)
    }
  }

  return {
    close() {
      if (closed) return
      closed = true
      if (timer) clearTimeout(timer)
      pending.clear()
      headWatcher?.close()
      for (const watcher of watchers.values()) watcher.close()
      watchers.clear()
      known.clear()
    },
  }
}
