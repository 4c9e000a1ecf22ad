import { MachineUnavailableError } from "./error.ts"
import type { EventProperties, EventType } from "./schema/event.ts"
import type {
  FileContent,
  FileNode,
  FileStatus,
  FindFilesQuery,
  LspStatus,
  PathInfo,
  Pty,
  PtyCreateInput,
  PtyShell,
  PtyTicket,
  PtyUpdateInput,
  Symbol as LspSymbol,
  TextMatch,
  VcsDiffQuery,
  VcsFileDiff,
  VcsFileStatus,
  VcsInfo,
} from "./schema/machine.ts"
import type { FileDiff } from "./schema/session.ts"
import type { SnapshotPatch } from "./schema/snapshot.ts"
import type { ToolResult } from "./tools.ts"
import type { ProjectIdentity } from "./ports.ts"
import type { ConfigSource, InstructionFile } from "./config/source.ts"
import type { McpService } from "./mcp/service.ts"
import type { SkillFile } from "./schema/skill.ts"
import type { ShellRunInput, ShellRunResult } from "./schema/shell-run.ts"

/** How machine services announce what happens on their own (a PTY exits, a file changes) on the bus. */
export type MachinePublish = <T extends EventType>(directory: string, type: T, properties: EventProperties<T>) => Promise<void>

/**
 * What only a machine has: terminals, files, search, version control, the user's config files. The local agent
 * implements it with real processes; the edge has none until a machine is paired (its routes answer 503
 * MachineUnavailable; the config is then the stored layer alone). Every path argument is relative to (and
 * confined in) the request's directory; only the config files are looked for beyond it, where upstream looks.
 */
export interface Machine {
  /** Whether the machine can be reached now (always, locally; over the edge, while its tunnel is up). */
  connected(): Promise<boolean>
  pty: PtyService
  files: FileService
  vcs: VcsService
  lsp: LspService
  tools: ToolService
  shell: ShellService
  config: ConfigFileService
  relay: NetworkRelay
  /** The MCP servers that run on the machine (`type: "local"`): their processes live and end with the agent. */
  mcp: McpService
  skills: SkillFileService
  snapshot: SnapshotService
}

/** One client connected to a PTY: raw output as text frames, control frames as binary. */
export interface PtyClient {
  sendText(data: string): void
  sendBinary(data: Uint8Array): void
  close(code: number, reason: string): void
}

export interface PtyAttachment {
  /** Writes a client's input to the PTY's stdin. */
  write(data: string): void
  detach(): void
}

export interface PtyService {
  shells(): Promise<PtyShell[]>
  /** The terminals started from `directory`, as upstream's per-instance list. */
  list(directory: string): Promise<Pty[]>
  get(ptyID: string): Promise<Pty | undefined>
  create(directory: string, input: PtyCreateInput): Promise<Pty>
  update(ptyID: string, input: PtyUpdateInput): Promise<Pty | undefined>
  /** Kills the process and closes its clients; false for an unknown id. */
  remove(ptyID: string): Promise<boolean>
  /** Replays output from `cursor` (-1: live only), sends the `0x00 {"cursor": n}` control frame, then streams live. */
  attach(ptyID: string, cursor: number, client: PtyClient): Promise<PtyAttachment | undefined>
  /** A single-use ticket to connect to one PTY from one directory without auth headers. */
  issueTicket(ptyID: string, directory: string): Promise<PtyTicket>
  /** Whether a ticket is valid for this PTY and directory; `consume` uses it up. */
  checkTicket(ticket: string, ptyID: string, directory: string, consume: boolean): Promise<boolean>
}

export interface FileService {
  list(directory: string, path: string): Promise<FileNode[]>
  read(directory: string, path: string): Promise<FileContent>
  status(directory: string): Promise<FileStatus[]>
  findText(directory: string, pattern: string): Promise<TextMatch[]>
  findFiles(directory: string, query: FindFilesQuery): Promise<string[]>
}

export interface VcsService {
  info(directory: string): Promise<VcsInfo>
  /**
   * The directory's changed files (staged, unstaged, untracked) against HEAD, by path from the worktree root;
   * empty outside git.
   */
  status(directory: string): Promise<VcsFileStatus[]>
  /** The directory's changed files with their patches, against HEAD or the branch's fork point; empty outside git. */
  diff(directory: string, query: VcsDiffQuery): Promise<VcsFileDiff[]>
  paths(directory: string): Promise<PathInfo>
  /** The directory's project as upstream names it: the git root commit and toplevel, else the global project. */
  project(directory: string): Promise<ProjectIdentity>
}

/**
 * Language servers, started on demand per language and root. The machine opens a file in its server when
 * the file is read; the server's diagnostics for it then arrive as `lsp.client.diagnostics` events.
 */
export interface LspService {
  /** The servers started for the directory (its root or roots inside it). */
  status(directory: string): Promise<LspStatus[]>
  /** Workspace symbols matching `query` from the directory's running servers. */
  symbols(directory: string, query: string): Promise<LspSymbol[]>
}

/** The built-in machine tools (shared/tools.ts), run on the machine with every path confined to the directory. */
export interface ToolService {
  /** Runs a machine tool, checking its arguments (400); 404 for any other tool. */
  execute(directory: string, toolID: string, args: unknown): Promise<ToolResult>
}

/**
 * The user's own shell commands (`POST /session/:id/shell`), run in the shell upstream picks for them, each
 * under a run id so that aborting the session stops it.
 */
export interface ShellService {
  /** Runs the command in the directory until it exits or is aborted (no timeout, as upstream's). */
  run(directory: string, input: ShellRunInput): Promise<ShellRunResult>
  /** Stops the run with this id and its every process, once they are gone; false when no such run is going. */
  abort(runID: string): Promise<boolean>
}

/**
 * The user's config files, which live on the machine: found from the directory (as upstream looks for them)
 * and read there, with `{env:}` and `{file:}` substituted from the machine's environment and files.
 */
export interface ConfigFileService {
  /**
   * The sources that apply to `directory`, lowest precedence first: the global file, `OPENCODE_CONFIG`, the
   * project's files from the worktree root to the directory, `OPENCODE_CONFIG_CONTENT`, then the `.opencode`
   * directories' files, agents and commands. A `{file:}` that cannot be read is ConfigInvalidError.
   */
  sources(directory: string): Promise<ConfigSource[]>
  /**
   * The instructions for the system prompt: AGENTS.md (else CLAUDE.md) in each folder from the worktree root to
   * the directory, the user's global one (`~/.config/opencode/AGENTS.md`, else `~/.claude/CLAUDE.md`), then each
   * of `extra` (the config's `instructions`: absolute, `~/`, or relative to the directory or a folder above it).
   * Missing files are skipped.
   */
  instructions(directory: string, extra: string[]): Promise<InstructionFile[]>
}

/** The user's skills (SKILL.md files), which live on the machine; `shared/domain/skill.ts` parses them. */
export interface SkillFileService {
  /**
   * The SKILL.md files for `directory`, in upstream's order (a later one wins a name), each at any depth: unless
   * OPENCODE_DISABLE_EXTERNAL_SKILLS, under `skills/` in `~/.claude` (unless OPENCODE_DISABLE_CLAUDE_CODE[_SKILLS])
   * and `~/.agents`, then in those folders from the directory up to the worktree root; then under `skill/` and
   * `skills/` in each config folder (`~/.config/opencode`, the `.opencode` folders); then under each of `paths`
   * (the config's `skills.paths`: absolute, `~/`, or relative to the directory); then in the skills downloaded from
   * each of `urls` (the config's `skills.urls`: `<url>/index.json` lists them; kept in upstream's cache folder,
   * `~/.cache/opencode/skills/<name>`).
   */
  find(directory: string, paths: string[], urls: string[]): Promise<SkillFile[]>
}

/**
 * Snapshots of a directory's worktree, kept in a git repository of the machine's own (one per worktree, beside
 * the agent's state), never in the user's: the user's index, HEAD and stash are not touched. A directory outside
 * git is its own worktree. `.gitignore` is respected; git's index stat cache means only changed files are hashed
 * again. Paths in patches are absolute; files outside the worktree are never touched.
 */
export interface SnapshotService {
  /** The worktree's current state as a tree hash. */
  track(directory: string): Promise<string>
  /** The files changed since the snapshot `hash` (absolute paths): up to now, or up to the snapshot `to` (no new snapshot). */
  patch(directory: string, hash: string, to?: string): Promise<SnapshotPatch>
  /** Each file that differs between two snapshots, with its patch and line counts. */
  diff(directory: string, from: string, to: string): Promise<FileDiff[]>
  /** A `git diff` of the worktree now against the snapshot `hash` (what a revert undid, for `session.revert.diff`). */
  diffText(directory: string, hash: string): Promise<string>
  /** Puts each patch's files back as they were in its snapshot (the first patch naming a file wins); absent ones are deleted. */
  revert(directory: string, patches: SnapshotPatch[]): Promise<void>
  /** Writes every file of the snapshot back (files it does not hold are left alone). */
  restore(directory: string, snapshot: string): Promise<void>
}

/** One HTTP request, as it travels to the machine to be made from there. */
export interface RelayRequest {
  url: string
  method: string
  headers: [string, string][]
  body?: string
}

/**
 * HTTP requests made from the machine: a model provider on the user's own machine or network (Ollama, LM
 * Studio on a loopback or private address), which the edge cannot reach itself. Private addresses only.
 */
export interface NetworkRelay {
  /** The provider's answer, streamed as it comes; 403 for a URL that is not on a private network. */
  fetch(request: RelayRequest): Promise<Response>
}

export function machineUnavailable() {
  return new MachineUnavailableError({ message: "No machine is connected to this server; terminals, files and search need one" })
}

/** The machine when it can be reached now, else 503 MachineUnavailable (the edge's while no tunnel is up). */
export async function connectedMachine(ports: { machine?: Machine }): Promise<Machine> {
  const machine = requireMachine(ports)
  if (!(await machine.connected())) throw machineUnavailable()
  return machine
}

/** The request's machine, or 503 MachineUnavailable when this server has none. */
export function requireMachine(ports: { machine?: Machine }): Machine {
  if (!ports.machine) throw machineUnavailable()
  return ports.machine
}
