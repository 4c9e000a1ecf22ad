import { z } from "zod"
import { MachineUnavailableError, NamedError, NotFoundError } from "../shared/error.ts"
import type { Machine, PtyAttachment, PtyClient } from "../shared/machine.ts"
import { Tunnel } from "../shared/tunnel.ts"
import { BASH_DEFAULT_TIMEOUT_MS, BASH_MAX_TIMEOUT_MS } from "../shared/tools.ts"
import { CONFIG_SOURCES_PATH, ConfigSource, INSTRUCTIONS_PATH, InstructionFile } from "../shared/config/source.ts"
import { RELAY_PATH } from "../shared/relay.ts"
import { MCP_MACHINE_PATH, McpCallResult, McpPrompt, McpResourceInfo, McpStatuses, McpTool, type McpServers } from "../shared/mcp/schema.ts"
import { MCP_DEFAULT_TIMEOUT_MS } from "../shared/mcp/pool.ts"
import { McpStatus } from "../shared/schema/app-info.ts"
import { SKILL_FILES_PATH, SkillFile } from "../shared/schema/skill.ts"
import { SHELL_RUN_PATHS, ShellAbortResult, ShellRunResult } from "../shared/schema/shell-run.ts"
import { SNAPSHOT_PATHS, SnapshotDiffAnswer, SnapshotDiffTextAnswer, SnapshotPatch, SnapshotTrackAnswer } from "../shared/schema/snapshot.ts"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { TunnelDroppedError, TunnelTimeoutError, TunnelBusyError, TunnelFrameTooLargeError } from "./errors.ts"
import type { MachineObject, TunnelResult } from "./objects/machine.ts"

/** A NamedError the machine answered with, passed on to the edge's client as it came. */
class ForwardedError extends NamedError {
  constructor(
    override readonly name: string,
    readonly data: Record<string, unknown>,
    readonly status: ContentfulStatusCode,
  ) {
    super(typeof data.message === "string" ? data.message : name)
  }
}

function failure(result: Extract<TunnelResult, { ok: false }>): NamedError {
  const data = { message: result.message }
  switch (result.reason) {
    case "unavailable":
      return new MachineUnavailableError(data)
    case "dropped":
      return new TunnelDroppedError(data)
    case "timeout":
      return new TunnelTimeoutError(data)
    case "busy":
      return new TunnelBusyError(data)
    case "too-large":
      return new TunnelFrameTooLargeError(data)
  }
}

/**
 * The machine on the far side of the tunnel. Each operation is the agent's own HTTP route, sent through
 * the tenant's MachineObject, so the machine runs exactly the code the local server runs; PTY sockets are
 * relayed. Connect tickets are the edge's own, kept in the MachineObject and prefixed with the tenant, so
 * a browser that connects with a ticket alone is routed to its tenant (worker/index.ts). A stub is made per call: Workers
 * do not let one request use I/O objects another request created.
 */
export function createRemoteMachine(tenant: string, machineObject: () => DurableObjectStub<MachineObject>): Machine {
  /** The agent's answer to one of its routes, its body streaming as it comes. */
  async function send(method: string, path: string, query: Record<string, string | undefined>, body?: unknown, waitMs?: number) {
    const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined))
    const target = search.size ? `${path}?${search}` : path
    const json = body === undefined ? undefined : Tunnel.encodeBase64(new TextEncoder().encode(JSON.stringify(body)))
    const result = await machineObject().request(method, target, [["content-type", "application/json"]], json, waitMs)
    if (!result.ok) throw failure(result)
    return result
  }

  async function call<T>(method: string, path: string, query: Record<string, string | undefined>, body?: unknown, waitMs?: number): Promise<T> {
    const result = await send(method, path, query, body, waitMs)
    const text = await new Response(result.body).text()
    const parsed = text ? JSON.parse(text) : undefined
    if (result.status >= 400) {
      const named = parsed as { name?: string; data?: Record<string, unknown> } | undefined
      throw new ForwardedError(named?.name ?? "UnknownError", named?.data ?? { message: text }, result.status as ContentfulStatusCode)
    }
    return parsed as T
  }

  /** undefined (or false) for an unknown id, as the local services answer. */
  async function orMissing<T>(request: Promise<T>, missing: T): Promise<T> {
    try {
      return await request
    } catch (error) {
      if (error instanceof ForwardedError && error.name === NotFoundError.errorName) return missing
      throw error
    }
  }

  return {
    connected: () => machineObject().connected(),
    pty: {
      shells: () => call("GET", "/pty/shells", {}),
      list: (directory) => call("GET", "/pty", { directory }),
      get: (ptyID) => orMissing(call("GET", `/pty/${ptyID}`, {}), undefined),
      create: (directory, input) => call("POST", "/pty", { directory }, input),
      update: (ptyID, input) => orMissing(call("PUT", `/pty/${ptyID}`, {}, input), undefined),
      remove: (ptyID) => orMissing(call("DELETE", `/pty/${ptyID}`, {}), false),
      async attach(ptyID, cursor, client): Promise<PtyAttachment | undefined> {
        const path = `/pty/${ptyID}/connect?cursor=${cursor}`
        const response = await machineObject().fetch(`https://machine/relay?path=${encodeURIComponent(path)}`, {
          headers: { Upgrade: "websocket" },
        })
        const socket = response.webSocket
        if (!socket) throw new MachineUnavailableError({ message: "No machine is connected to this edge" })
        socket.accept()
        relay(socket, client)
        return {
          write: (data) => socket.send(data),
          detach: () => socket.close(1000, "client left"),
        }
      },
      issueTicket: (ptyID, directory) => machineObject().issueTicket(ptyID, directory, ticketPrefix(tenant)),
      checkTicket: (ticket, ptyID, directory, consume) => machineObject().checkTicket(ticket, ptyID, directory, consume),
    },
    files: {
      list: (directory, path) => call("GET", "/file", { directory, path }),
      read: (directory, path) => call("GET", "/file/content", { directory, path }),
      status: (directory) => call("GET", "/file/status", { directory }),
      findText: (directory, pattern) => call("GET", "/find", { directory, pattern }),
      findFiles: (directory, query) =>
        call("GET", "/find/file", { directory, query: query.query, dirs: query.dirs, type: query.type, limit: query.limit?.toString() }),
    },
    vcs: {
      info: (directory) => call("GET", "/vcs", { directory }),
      status: (directory) => call("GET", "/vcs/status", { directory }),
      diff: (directory, query) => call("GET", "/vcs/diff", { directory, mode: query.mode, context: query.context?.toString() }),
      paths: (directory) => call("GET", "/path", { directory }),
      async project(directory) {
        const project = await call<{ id: string; worktree: string; vcs?: "git" }>("GET", "/project/current", { directory })
        return { id: project.id, worktree: project.worktree, ...(project.vcs ? { vcs: project.vcs } : {}) }
      },
    },
    lsp: {
      status: (directory) => call("GET", "/lsp", { directory }),
      symbols: (directory, query) => call("GET", "/find/symbol", { directory, query }),
    },
    tools: {
      execute: (directory, toolID, args) =>
        call("POST", `/tool/${encodeURIComponent(toolID)}/execute`, { directory }, args, toolID === "bash" ? bashWaitMs(args) : undefined),
    },
    // The user's shell command runs on the machine for as long as it takes; an abort reaches it there by its run id.
    shell: {
      run: async (directory, input) => ShellRunResult.parse(await call("POST", SHELL_RUN_PATHS.run, { directory }, input, SHELL_WAIT_MS)),
      abort: async (runID) => ShellAbortResult.parse(await call("POST", SHELL_RUN_PATHS.abort, {}, { runID }, SHELL_ABORT_WAIT_MS)).aborted,
    },
    // The machine finds, reads and substitutes its files; the edge checks their shape, then parses and merges them as the agent does.
    config: {
      sources: async (directory) => ConfigSource.array().parse(await call("GET", CONFIG_SOURCES_PATH, { directory })),
      async instructions(directory, extra) {
        const query = new URLSearchParams([["directory", directory], ...extra.map((path) => ["path", path] as [string, string])])
        return InstructionFile.array().parse(await call("GET", `${INSTRUCTIONS_PATH}?${query}`, {}))
      },
    },
    // The machine runs its local MCP servers; the edge checks the shape of what it answers.
    mcp: {
      status: async (directory, servers) => McpStatuses.parse(await call("POST", `${MCP_MACHINE_PATH}/status`, { directory }, { servers }, listWaitMs(servers))),
      tools: async (directory, servers) => McpTool.array().parse(await call("POST", `${MCP_MACHINE_PATH}/tools`, { directory }, { servers }, listWaitMs(servers))),
      prompts: async (directory, servers) => McpPrompt.array().parse(await call("POST", `${MCP_MACHINE_PATH}/prompts`, { directory }, { servers }, listWaitMs(servers))),
      resources: async (directory, servers) =>
        McpResourceInfo.array().parse(await call("POST", `${MCP_MACHINE_PATH}/resources`, { directory }, { servers }, listWaitMs(servers))),
      prompt: async (directory, name, config, prompt, args) =>
        z.string().parse(await call("POST", `${MCP_MACHINE_PATH}/prompt`, { directory }, { name, config, prompt, args }, mcpWaitMs(config.timeout))),
      call: async (directory, name, config, tool, args) =>
        McpCallResult.parse(await call("POST", `${MCP_MACHINE_PATH}/call`, { directory }, { name, config, tool, args }, mcpWaitMs(config.timeout))),
      connect: async (directory, name, config) =>
        McpStatus.parse(await call("POST", `${MCP_MACHINE_PATH}/connect`, { directory }, { name, config }, mcpWaitMs(config.timeout))),
      disconnect: async (directory, name) => {
        await call("POST", `${MCP_MACHINE_PATH}/disconnect`, { directory }, { name })
      },
    },
    skills: {
      async find(directory, paths, urls) {
        const query = new URLSearchParams([
          ["directory", directory],
          ...paths.map((path) => ["path", path] as [string, string]),
          ...urls.map((url) => ["url", url] as [string, string]),
        ])
        return SkillFile.array().parse(await call("GET", `${SKILL_FILES_PATH}?${query}`, {}))
      },
    },
    // Every file operation of snapshots and revert runs on the machine, against its own snapshot repository.
    snapshot: {
      track: async (directory) => SnapshotTrackAnswer.parse(await call("POST", SNAPSHOT_PATHS.track, { directory }, {})).snapshot,
      patch: async (directory, hash, to) => SnapshotPatch.parse(await call("POST", SNAPSHOT_PATHS.patch, { directory }, { hash, to })),
      diff: async (directory, from, to) => SnapshotDiffAnswer.parse(await call("POST", SNAPSHOT_PATHS.diff, { directory }, { from, to })),
      diffText: async (directory, hash) => SnapshotDiffTextAnswer.parse(await call("POST", SNAPSHOT_PATHS.diffText, { directory }, { hash })).diff,
      revert: async (directory, patches) => void (await call("POST", SNAPSHOT_PATHS.revert, { directory }, { patches }, SNAPSHOT_WAIT_MS)),
      restore: async (directory, snapshot) => void (await call("POST", SNAPSHOT_PATHS.restore, { directory }, { snapshot }, SNAPSHOT_WAIT_MS)),
    },
    relay: {
      // The provider's status and body pass through as they come (an error status is the provider's, not the agent's).
      async fetch(request) {
        const result = await send("POST", RELAY_PATH, {}, request, RELAY_WAIT_MS)
        return new Response(result.body, { status: result.status, headers: result.headers })
      },
    },
  }
}

/**
 * Machine → client: text frames are output, binary ones control frames; the machine's close is the client's.
 * A socket from a fetch response delivers binary frames as Blobs, read asynchronously, so every frame goes
 * through one queue: the control frame stays ahead of the output that follows it.
 */
function relay(socket: WebSocket, client: PtyClient): void {
  let delivered = Promise.resolve()
  const inOrder = (deliver: () => void | Promise<void>) => {
    delivered = delivered.then(deliver).catch(() => {})
  }
  socket.addEventListener("message", ({ data }) => {
    inOrder(async () => {
      if (typeof data === "string") client.sendText(data)
      else client.sendBinary(new Uint8Array(data instanceof Blob ? await data.arrayBuffer() : (data as ArrayBuffer)))
    })
  })
  socket.addEventListener("close", (event) => inOrder(() => client.close(event.code === 1005 ? 1000 : event.code, event.reason)))
}

/** A user's shell command has no timeout of its own (as upstream's); the tunnel gives up on it after this long. */
const SHELL_WAIT_MS = 24 * 60 * 60_000

/** An abort waits for the command's processes to go: up to upstream's 3 s grace before SIGKILL, plus time to answer. */
const SHELL_ABORT_WAIT_MS = 15_000

/** Restoring many files of a large worktree may take a while. */
const SNAPSHOT_WAIT_MS = 5 * 60_000

/** A model's streamed answer may take this long through the tunnel (a long reply from a slow local model). */
const RELAY_WAIT_MS = 15 * 60_000

/** Listing connects the servers not connected yet, each within its timeout. */
function listWaitMs(servers: McpServers): number {
  return Math.max(MCP_DEFAULT_TIMEOUT_MS, ...Object.values(servers).map((config) => config.timeout ?? 0)) + 5_000
}

/** An MCP call may take the server's timeout (the SDK's minute by default), plus time to answer. */
function mcpWaitMs(timeout: number | undefined): number {
  return (timeout ?? 60_000) + 5_000
}

/** A bash command may run for its own timeout: the tunnel waits that long, plus time to kill it and answer. */
function bashWaitMs(args: unknown): number {
  const timeout = (args as { timeout?: unknown } | undefined)?.timeout
  return (typeof timeout === "number" ? Math.min(timeout, BASH_MAX_TIMEOUT_MS) : BASH_DEFAULT_TIMEOUT_MS) + 5_000
}

const TICKET_SEPARATOR = "~"

function ticketPrefix(tenant: string): string {
  return `${tenant}${TICKET_SEPARATOR}`
}

/** The tenant a PTY connect ticket was issued for (it is checked, and used up, by that tenant's machine). */
export function ticketTenant(ticket: string | null): string | undefined {
  const at = ticket?.indexOf(TICKET_SEPARATOR) ?? -1
  return at > 0 ? ticket!.slice(0, at) : undefined
}
