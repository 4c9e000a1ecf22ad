/**
 * Helpers shared by the bench scripts: children in their own process groups (stdout/stderr piped, tail-capped),
 * temp dirs, and their cleanup. Importing this module installs the cleanup:
 * - on process exit (normal, `process.exit`, uncaught error): every child's process group gets SIGKILL and
 *   every temp dir made with `tempDir` is removed;
 * - on SIGINT/SIGTERM: a note on stderr, then `process.exit(130)`, which runs the exit cleanup.
 * Stop children in an orderly way with `stopChild` (SIGTERM, wait up to 10 s, then SIGKILL the group).
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { buildAgent } from "../local-agent/build.ts"

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..")

const TAIL = 20_000

let agentBuild: Promise<string> | undefined
/** The local agent as `npm start` runs it: its bundle (`local-agent/build.ts`), built once per bench run from the current source. */
export function agentBundle(): Promise<string> {
  return (agentBuild ??= buildAgent())
}

export interface Child {
  name: string
  proc: ChildProcess
  /** Last 20 000 characters of stdout / stderr. */
  stdout: string
  stderr: string
  exited: boolean
  exitCode: number | null
}

/** Children not yet stopped; their process groups are killed on exit. */
export const children = new Set<Child>()
const tempDirs: string[] = []

/** Spawns `command` in `cwd` (default ROOT), detached (its own process group), stdin ignored, stdout/stderr captured. */
export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd: string = ROOT): Child {
  const proc = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
  const child: Child = { name, proc, stdout: "", stderr: "", exited: false, exitCode: null }
  proc.stdout!.setEncoding("utf8").on("data", (s: string) => (child.stdout = (child.stdout + s).slice(-TAIL)))
  proc.stderr!.setEncoding("utf8").on("data", (s: string) => (child.stderr = (child.stderr + s).slice(-TAIL)))
  proc.on("exit", (code) => {
    child.exited = true
    child.exitCode = code
  })
  proc.on("error", (error) => {
    child.exited = true
    child.stderr += `\n${error.message}`
  })
  children.add(child)
  return child
}

/** Signals the child's whole process group (which may outlive its leader, e.g. wrangler's workerd). */
export function killGroup(child: Child, signal: NodeJS.Signals) {
  if (child.proc.pid === undefined) return
  try {
    process.kill(-child.proc.pid, signal)
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, up to 10 s for the leader to exit, then SIGKILL to the group (always). */
export async function stopChild(child: Child) {
  if (!child.exited) killGroup(child, "SIGTERM")
  const deadline = Date.now() + 10_000
  while (!child.exited && Date.now() < deadline) await sleep(50)
  killGroup(child, "SIGKILL") // the group may outlive its leader (wrangler's workerd)
  children.delete(child)
}

/** A fresh directory under the OS temp dir, removed by `removeTempDirs` or at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

export function removeTempDirs() {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

function cleanupSync() {
  for (const child of children) killGroup(child, "SIGKILL")
  removeTempDirs()
}
process.on("exit", cleanupSync)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping children\n`)
    process.exit(130)
  })
}

export function sleep(ms: number) {
  return new Promise<void>((resolveSleep) => setTimeout(resolveSleep, ms))
}

export async function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no end within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

function tails(child: Child) {
  return `stdout: ${child.stdout.slice(-2000)}\nstderr: ${child.stderr.slice(-2000)}`
}

/** Polls `test` every 50 ms; throws (with the child's output) if the child exits or `ms` pass first. */
export async function waitFor(child: Child, what: string, test: () => boolean, ms: number) {
  const deadline = Date.now() + ms
  while (!test()) {
    if (child.exited || Date.now() > deadline)
      throw new Error(`${child.name}: ${child.exited ? "exited" : "timed out"} waiting for ${what}\n${tails(child)}`)
    await sleep(50)
  }
}

/**
 * `agent pair --edge`, then `POST /edge/pair` with the code it printed: the client token for the edge. The
 * machine's secret stays in `state`, for an `agent connect` with the same state.
 */
export async function pairAgent(edge: string, state: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const pair = startChild("pair", process.execPath, [await agentBundle(), "pair", "--edge", edge, "--state", state], env)
  await waitFor(pair, "pair to exit", () => pair.exited, 60_000)
  children.delete(pair)
  const code = pair.stdout.match(/Pairing code: (\S+)/)?.[1]
  if (!code) throw new Error(`pair: no pairing code\nstdout: ${pair.stdout}\nstderr: ${pair.stderr}`)
  const response = await fetch(`${edge}/edge/pair`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  })
  const body = (await response.json().catch(() => ({}))) as { token?: string }
  if (!response.ok || !body.token) throw new Error(`POST /edge/pair: ${response.status} ${JSON.stringify(body)}`)
  return body.token
}

/** Waits for `pattern` in the child's stdout; throws (with the child's output) if it exits or `ms` pass first. */
export async function waitForOutput(child: Child, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const match = child.stdout.match(pattern)
    if (match) return match
    if (child.exited) break
    await sleep(25)
  }
  throw new Error(`${child.exited ? `exited (code ${child.exitCode})` : `no ${pattern} within ${ms} ms`}\n${tails(child)}`)
}

export function log(line: string) {
  process.stdout.write(`${line}\n`)
}
