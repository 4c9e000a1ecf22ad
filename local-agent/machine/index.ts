import type { FileService, Machine, MachinePublish, VcsService } from "../../shared/machine.ts"
import type { Logger } from "../../shared/ports.ts"
import { createFileService, type FileServiceOptions } from "./files.ts"
import { createNetworkRelay } from "./relay.ts"
import { createConfigFileService, type ConfigEnvironment } from "./config.ts"
import { createLspService } from "./lsp.ts"
import { createMcpService } from "./mcp.ts"
import type { McpCredentials } from "../../shared/mcp/oauth.ts"
import { createPtyService } from "./pty.ts"
import { createSkillFileService } from "./skills.ts"
import { createSnapshotService } from "./snapshot.ts"
import { withDiagnostics } from "./tool-diagnostics.ts"
import { createToolService } from "./tools.ts"
import { createShellService } from "./shell.ts"
import { createVcsService } from "./vcs.ts"
import { watchDirectory, type DirectoryWatcher, type WatchedEvent } from "./watcher.ts"
import type { EventProperties } from "../../shared/schema/event.ts"

export interface LocalMachineOptions {
  /** The agent's state directory, reported by GET /path. */
  stateDirectory: string
  /** Puts an event on a directory's streams. */
  publish: MachinePublish
  log?: Logger
  /** `rg` to search with; false uses the built-in search (default: `rg` from PATH when there is one). */
  ripgrep?: FileServiceOptions["ripgrep"]
  /** Directories watched at once; the least recently started watcher stops beyond it (default 32). */
  maxWatchedDirectories?: number
  /** Whose config files are read (default: this process's environment and home folder). */
  configEnvironment?: ConfigEnvironment
  /** Where remote MCP servers' OAuth tokens are kept (the local server's records); none when the machine serves an edge. */
  mcpCredentials?: McpCredentials
}

export interface LocalMachine {
  machine: Machine
  /** Kills the PTYs, running tool commands and MCP server processes, shuts the language servers down and stops every file watcher. */
  close(): Promise<void>
}

/**
 * This machine: terminals (node-pty), files, search, git and the user's config files. A directory gets a file
 * watcher the first time a file or vcs request names it; `close()` stops them all.
 */
export function createLocalMachine(options: LocalMachineOptions): LocalMachine {
  const maxWatched = options.maxWatchedDirectories ?? 32
  const watchers = new Map<string, Promise<DirectoryWatcher | undefined>>()
  let closed = false

  const ensureWatcher = (directory: string) => {
    if (closed || watchers.has(directory)) return
    if (watchers.size >= maxWatched) {
      const [oldest, watcher] = watchers.entries().next().value!
      watchers.delete(oldest)
      void watcher.then((w) => w?.close())
    }
    const started = watchDirectory(directory, (type, properties) => (refreshOpen(type, properties), options.publish(directory, type, properties)), {
      onError: (message) => options.log?.warn(message, { directory }),
    }).catch(() => {
      // the directory does not exist (yet): try again on its next request
      if (watchers.get(directory) === started) watchers.delete(directory)
      return undefined
    })
    watchers.set(directory, started)
  }

  const files = createFileService({ ripgrep: options.ripgrep })
  const vcs = createVcsService({ stateDirectory: options.stateDirectory })
  const watchedFiles: FileService = {
    list: (directory, path) => (ensureWatcher(directory), files.list(directory, path)),
    // Reading a source file also opens it in its language server, so diagnostics follow (lsp.client.diagnostics).
    read: (directory, path) => (ensureWatcher(directory), files.read(directory, path).then((content) => (touch(directory, path), content))),
    status: (directory) => (ensureWatcher(directory), files.status(directory)),
    findText: (directory, pattern) => (ensureWatcher(directory), files.findText(directory, pattern)),
    findFiles: (directory, query) => (ensureWatcher(directory), files.findFiles(directory, query)),
  }
  const watchedVcs: VcsService = {
    info: (directory) => (ensureWatcher(directory), vcs.info(directory)),
    paths: (directory) => (ensureWatcher(directory), vcs.paths(directory)),
    status: (directory) => (ensureWatcher(directory), vcs.status(directory)),
    diff: (directory, query) => (ensureWatcher(directory), vcs.diff(directory, query)),
    project: vcs.project,
  }
  const pty = createPtyService(options.publish)
  const tools = createToolService()
  const shell = createShellService()
  const lsp = createLspService({ publish: options.publish, log: options.log })
  const mcp = createMcpService(options.publish, options.log, options.mcpCredentials)
  // A file open in a language server changed on disk (an editor, a tool, git): the server gets its new text.
  const refreshOpen = (type: WatchedEvent, properties: EventProperties<WatchedEvent>) => {
    if (type !== "file.watcher.updated" || closed) return
    const { file, event } = properties as EventProperties<"file.watcher.updated">
    if (event === "change") lsp.refresh(file).catch((error) => options.log?.warn(`lsp: ${error.message}`, { file }))
  }
  const touch = (directory: string, path: string) => {
    if (!closed && lsp.handles(path)) lsp.touch(directory, path).catch((error) => options.log?.warn(`lsp: ${error.message}`, { directory, path }))
  }

  return {
    machine: {
      connected: async () => true,
      pty,
      files: watchedFiles,
      vcs: watchedVcs,
      lsp,
      tools: withDiagnostics(tools, lsp),
      shell,
      config: createConfigFileService(options.configEnvironment),
      relay: createNetworkRelay(),
      mcp,
      skills: createSkillFileService(options.configEnvironment, options.log),
      snapshot: createSnapshotService({ stateDirectory: options.stateDirectory }),
    },
    async close() {
      closed = true
      vcs.close()
      pty.closeAll()
      tools.closeAll()
      shell.closeAll()
      await mcp.closeAll()
      await lsp.closeAll()
      const started = [...watchers.values()]
      watchers.clear()
      for (const watcher of await Promise.all(started)) watcher?.close()
    },
  }
}
