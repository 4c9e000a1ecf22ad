import { randomBytes } from "node:crypto"
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { basename, isAbsolute, resolve } from "node:path"
import * as nodePty from "node-pty"
import { BadRequestError } from "../../shared/error.ts"
import { Identifier } from "../../shared/id.ts"
import type { MachinePublish, PtyClient, PtyService } from "../../shared/machine.ts"
import type { Pty, PtyShell } from "../../shared/schema/machine.ts"
import { OutputBuffer } from "./output.ts"

/** At least this much output is kept for replay by cursor, as upstream's 2 MB buffer. */
const BUFFER_CHARS = 2 * 1024 * 1024
/** Replay goes out in pieces of this size. */
const REPLAY_PIECE = 64 * 1024
const TICKET_SECONDS = 60
const CANDIDATE_SHELLS = ["/bin/bash", "/usr/bin/bash", "/bin/zsh", "/usr/bin/zsh", "/usr/bin/fish", "/bin/sh"]

interface Terminal {
  info: Pty
  directory: string
  process: nodePty.IPty
  output: OutputBuffer
  clients: Set<PtyClient>
}

function controlFrame(cursor: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ cursor }))
  const frame = new Uint8Array(json.length + 1)
  frame.set(json, 1)
  return frame
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

/** The processes of session `sid`, from /proc; where there is no /proc, the session leader's process group. */
function sessionMembers(sid: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync("/proc")
  } catch {
    return [-sid]
  }
  const members: number[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      // After the command name in parentheses: state, ppid, pgrp, session, ...
      const session = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3])
      if (session === sid) members.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return members
}

function preferredShell(): string {
  const fromEnv = process.env.SHELL
  if (fromEnv && isExecutable(fromEnv)) return fromEnv
  return CANDIDATE_SHELLS.find(isExecutable) ?? "/bin/sh"
}

/** Terminals on this machine, with node-pty: output to every connected client, replay by cursor, single-use tickets. */
export function createPtyService(publish: MachinePublish): PtyService & { closeAll(): void } {
  const terminals = new Map<string, Terminal>()
  const tickets = new Map<string, { ptyID: string; directory: string; expires: number }>()

  const announce = (terminal: Terminal, type: "pty.created" | "pty.updated") =>
    publish(terminal.directory, type, { info: terminal.info }).catch(() => {})

  const closeClients = (terminal: Terminal, reason: string) => {
    for (const client of terminal.clients) client.close(1000, reason)
    terminal.clients.clear()
  }

  /**
   * SIGHUP, as a closing terminal sends, then SIGKILL to every process of the terminal's session. The shell
   * leads its own session, and an interactive shell gives each background job its own process group, so
   * killing the shell's group alone would orphan its jobs.
   */
  const kill = (terminal: Terminal) => {
    const pid = terminal.process.pid
    // An exited shell's pid may belong to another process by now; its session id cannot while the session lives.
    if (terminal.info.status === "running") signal(pid, "SIGHUP")
    for (const member of sessionMembers(pid)) signal(member, "SIGKILL")
  }

  return {
    async shells(): Promise<PtyShell[]> {
      const found = new Map<string, PtyShell>()
      for (const path of [process.env.SHELL, ...CANDIDATE_SHELLS]) {
        if (!path || found.has(path) || !existsSync(path)) continue
        found.set(path, { path, name: basename(path), acceptable: isExecutable(path) })
      }
      return [...found.values()]
    },

    list: async (directory) =>
      [...terminals.values()].filter((terminal) => terminal.directory === directory).map((terminal) => terminal.info),

    get: async (ptyID) => terminals.get(ptyID)?.info,

    async create(directory, input) {
      const command = input.command ?? preferredShell()
      const args = input.args ?? (command.endsWith("sh") ? ["-l"] : [])
      const cwd = input.cwd ? (isAbsolute(input.cwd) ? input.cwd : resolve(directory, input.cwd)) : directory
      if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
        throw new BadRequestError({ message: `cwd is not a directory on this machine: ${cwd}`, kind: "Body" })
      }
      let child: nodePty.IPty
      try {
        child = nodePty.spawn(command, args, {
          name: "xterm-256color",
          cols: 80,
          rows: 24,
          cwd,
          env: { ...process.env, ...input.env, TERM: "xterm-256color" } as Record<string, string>,
        })
      } catch (error) {
        throw new BadRequestError({ message: `Cannot start ${command}: ${(error as Error).message}`, kind: "Body" })
      }
      const id = Identifier.ascending("pty")
      const terminal: Terminal = {
        info: { id, title: input.title ?? `Terminal ${id.slice(-4)}`, command, args, cwd, status: "running", pid: child.pid },
        directory,
        process: child,
        output: new OutputBuffer(BUFFER_CHARS),
        clients: new Set(),
      }
      terminals.set(id, terminal)
      child.onData((data) => {
        terminal.output.push(data)
        for (const client of terminal.clients) client.sendText(data)
      })
      child.onExit(({ exitCode }) => {
        terminal.info = { ...terminal.info, status: "exited", exitCode }
        closeClients(terminal, "exited")
        publish(directory, "pty.exited", { id, exitCode }).catch(() => {})
      })
      announce(terminal, "pty.created")
      return terminal.info
    },

    async update(ptyID, input) {
      const terminal = terminals.get(ptyID)
      if (!terminal) return undefined
      if (input.title !== undefined) terminal.info = { ...terminal.info, title: input.title }
      if (input.size && terminal.info.status === "running") terminal.process.resize(input.size.cols, input.size.rows)
      announce(terminal, "pty.updated")
      return terminal.info
    },

    async remove(ptyID) {
      const terminal = terminals.get(ptyID)
      if (!terminal) return false
      terminals.delete(ptyID)
      closeClients(terminal, "deleted")
      kill(terminal)
      publish(terminal.directory, "pty.deleted", { id: ptyID }).catch(() => {})
      return true
    },

    async attach(ptyID, cursor, client) {
      const terminal = terminals.get(ptyID)
      if (!terminal) return undefined
      if (cursor >= 0) for (const piece of terminal.output.since(cursor, REPLAY_PIECE)) client.sendText(piece)
      client.sendBinary(controlFrame(terminal.output.end))
      if (terminal.info.status !== "running") {
        client.close(1000, "exited")
        return { write() {}, detach() {} }
      }
      terminal.clients.add(client)
      return {
        write: (data) => terminal.process.write(data),
        detach: () => void terminal.clients.delete(client),
      }
    },

    async issueTicket(ptyID, directory) {
      const now = Date.now()
      for (const [ticket, entry] of tickets) if (entry.expires <= now) tickets.delete(ticket)
      const ticket = randomBytes(32).toString("base64url")
      tickets.set(ticket, { ptyID, directory, expires: now + TICKET_SECONDS * 1000 })
      return { ticket, expires_in: TICKET_SECONDS }
    },

    async checkTicket(ticket, ptyID, directory, consume) {
      const entry = tickets.get(ticket)
      const valid = !!entry && entry.ptyID === ptyID && entry.directory === directory && entry.expires > Date.now()
      if (valid && consume) tickets.delete(ticket)
      return valid
    },

    closeAll() {
      for (const terminal of terminals.values()) {
        closeClients(terminal, "server stopping")
        kill(terminal)
      }
      terminals.clear()
    },
  }
}
