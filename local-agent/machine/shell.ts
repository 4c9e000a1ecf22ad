import { spawn } from "node:child_process"
import { accessSync, constants, statSync } from "node:fs"
import { basename, delimiter, isAbsolute, join } from "node:path"
import type { ShellService } from "../../shared/machine.ts"
import { MAX_BASH_OUTPUT_BYTES } from "./tools.ts"
import { realDirectory } from "./confine.ts"

/** Upstream's grace between SIGTERM and SIGKILL for an aborted command (its `forceKillAfter`). */
const FORCE_KILL_AFTER_MS = 3_000

/** The shell upstream runs a user's command in: the config's `shell`, else `$SHELL`, when it resolves to a file; else bash, else /bin/sh. */
export function preferredShell(configured?: string): string {
  const wanted = configured || process.env.SHELL
  return (wanted && resolveShell(wanted)) || findOnPath("bash") || "/bin/sh"
}

/** An absolute path that is a file, or a name found on PATH. */
function resolveShell(shell: string): string | undefined {
  if (isAbsolute(shell)) return statSync(shell, { throwIfNoEntry: false })?.isFile() ? shell : undefined
  return findOnPath(shell)
}

function findOnPath(name: string): string | undefined {
  for (const folder of (process.env.PATH ?? "").split(delimiter)) {
    if (!folder) continue
    const candidate = join(folder, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * The arguments upstream gives each shell: bash and zsh run as login shells that also read the user's rc file
 * (bash with aliases expanded), `cd` into the directory (`$1`, with `$0` "opencode") and `eval` the command;
 * fish and nu, POSIX shells and any other get `-c`; cmd `/c`; PowerShell `-NoProfile -Command`.
 */
export function shellArgs(shell: string, command: string, cwd: string): string[] {
  const name = basename(shell).toLowerCase()
  if (name === "nu" || name === "fish") return ["-c", command]
  if (name === "zsh")
    return [
      "-l",
      "-c",
      `
        [[ -f ~/.zshenv ]] && source ~/.zshenv >/dev/null 2>&1 || true
        [[ -f "\${ZDOTDIR:-$HOME}/.zshrc" ]] && source "\${ZDOTDIR:-$HOME}/.zshrc" >/dev/null 2>&1 || true
        cd -- "$1"
        eval ${JSON.stringify(command)}
      `,
      "opencode",
      cwd,
    ]
  if (name === "bash")
    return [
      "-l",
      "-c",
      `
        shopt -s expand_aliases
        [[ -f ~/.bashrc ]] && source ~/.bashrc >/dev/null 2>&1 || true
        cd -- "$1"
        eval ${JSON.stringify(command)}
      `,
      "opencode",
      cwd,
    ]
  if (name === "cmd") return ["/c", command]
  if (name === "powershell" || name === "pwsh") return ["-NoProfile", "-Command", command]
  return ["-c", command]
}

interface Running {
  /** SIGTERM to the process group, SIGKILL after upstream's grace; resolves once the shell has exited. */
  abort(): Promise<void>
}

/** The user's shell commands on this machine, each in its own process group so an abort stops everything it started. */
export function createShellService(): ShellService & { closeAll(): void } {
  const running = new Map<string, Running>()
  return {
    async run(directory, input) {
      const cwd = await realDirectory(directory)
      const shell = preferredShell(input.shell)
      return new Promise((resolve, reject) => {
        const child = spawn(shell, shellArgs(shell, input.command, cwd), {
          cwd,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, TERM: "dumb" },
        })
        const chunks: Buffer[] = []
        let size = 0
        let aborted = false
        // Kept within what one tunnel answer carries; what is dropped is said.
        const collect = (chunk: Buffer) => {
          if (size < MAX_BASH_OUTPUT_BYTES) chunks.push(chunk.subarray(0, MAX_BASH_OUTPUT_BYTES - size))
          size += chunk.length
        }
        child.stdout!.on("data", collect)
        child.stderr!.on("data", collect)
        const signalGroup = (signal: NodeJS.Signals) => {
          try {
            process.kill(-child.pid!, signal)
          } catch {
            // already gone
          }
        }
        const exited = new Promise<void>((done) => child.once("exit", () => done()))
        running.set(input.runID, {
          async abort() {
            aborted = true
            signalGroup("SIGTERM")
            const force = setTimeout(() => signalGroup("SIGKILL"), FORCE_KILL_AFTER_MS)
            await exited
            clearTimeout(force)
          },
        })
        let settled = false
        const finish = () => {
          if (settled) return
          settled = true
          running.delete(input.runID)
          const output = Buffer.concat(chunks).toString("utf8")
          resolve({ output: size > MAX_BASH_OUTPUT_BYTES ? `${output}\n(output truncated at ${MAX_BASH_OUTPUT_BYTES} bytes)` : output, aborted })
        }
        child.once("error", (error) => {
          if (settled) return
          settled = true
          running.delete(input.runID)
          reject(error)
        })
        // a background process may hold the pipes open: do not wait for it for long
        child.once("exit", () => setTimeout(finish, 500).unref())
        child.once("close", finish)
      })
    },

    async abort(runID) {
      const run = running.get(runID)
      if (!run) return false
      await run.abort()
      return true
    },

    closeAll() {
      for (const run of running.values()) void run.abort()
    },
  }
}
