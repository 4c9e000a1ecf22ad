/**
 * PTY throughput: a large output (default 50 MB) read straight from node-pty, and the same output read
 * through the local agent's `/pty/:id/connect` WebSocket, in the same run. The command waits for a line
 * on stdin before it writes, so timing starts when the reader is ready. Prints MB/s for both and the ratio.
 *
 *   npx tsx bench/pty.ts [--megabytes 50] [--rounds 3]
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as nodePty from "node-pty"
import WebSocket from "ws"

const { values } = parseArgs({ options: { megabytes: { type: "string", default: "50" }, rounds: { type: "string", default: "3" } } })
const BYTES = Number(values.megabytes) * 1024 * 1024
const ROUNDS = Number(values.rounds)
const COMMAND = "bash"
// It sleeps after writing: node-pty can drop the last few KB of a process that exits at once.
const ARGS = ["--noprofile", "--norc", "-c", `stty raw -echo; read -r _; head -c ${BYTES} /dev/zero | tr '\\0' a; sleep 60`]
const TIMEOUT_MS = 120_000

async function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no end within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** Reads BYTES of output directly from node-pty; returns milliseconds from the go line to the last byte. */
async function direct(): Promise<number> {
  const child = nodePty.spawn(COMMAND, ARGS, { cols: 200, rows: 50, cwd: tmpdir(), env: process.env as Record<string, string> })
  let received = 0
  let started = 0
  const done = new Promise<number>((resolve) => {
    child.onData((data) => {
      if (!started) return
      received += data.length
      if (received >= BYTES) resolve(performance.now() - started)
    })
  })
  await new Promise((resolve) => setTimeout(resolve, 300))
  started = performance.now()
  child.write("\n")
  const elapsed = await withTimeout("direct", done)
  child.kill()
  return elapsed
}

async function startServer(state: string): Promise<{ url: string; stop(): void }> {
  const child = spawn("node_modules/.bin/tsx", ["local-agent/cli.ts", "serve", "--port", "0", "--state", state, "--log-level", "warn"], {
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (chunk) => {
      out += chunk
      const match = out.match(/listening on (http:\/\/\S+)/)
      if (match) resolve(match[1]!)
    })
    child.once("exit", () => reject(new Error(`server exited: ${out}`)))
  })
  return { url, stop: () => process.kill(-child.pid!, "SIGTERM") }
}

/** Reads BYTES of output through the server's WebSocket; returns milliseconds from the go line to the last byte. */
async function throughServer(url: string): Promise<number> {
  const directory = tmpdir()
  const created = await fetch(`${url}/pty?directory=${encodeURIComponent(directory)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ command: COMMAND, args: ARGS }),
  })
  const pty = (await created.json()) as { id: string }
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/pty/${pty.id}/connect?cursor=-1&directory=${encodeURIComponent(directory)}`)
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject))
  let received = 0
  let started = 0
  const done = new Promise<number>((resolve) => {
    socket.on("message", (data, isBinary) => {
      if (isBinary || !started) return
      received += (data as Buffer).length
      if (received >= BYTES) resolve(performance.now() - started)
    })
  })
  await new Promise((resolve) => setTimeout(resolve, 300))
  started = performance.now()
  socket.send("\n")
  const elapsed = await withTimeout("server", done)
  socket.close()
  await fetch(`${url}/pty/${pty.id}?directory=${encodeURIComponent(directory)}`, { method: "DELETE" })
  return elapsed
}

const state = mkdtempSync(join(tmpdir(), "bench-pty-"))
const server = await startServer(state)
const rate = (ms: number) => BYTES / 1024 / 1024 / (ms / 1000)
const rows: { round: number; direct: number; server: number }[] = []
try {
  for (let round = 1; round <= ROUNDS; round++) {
    rows.push({ round, direct: rate(await direct()), server: rate(await throughServer(server.url)) })
  }
} finally {
  server.stop()
  rmSync(state, { recursive: true, force: true })
}
console.log(`PTY output of ${values.megabytes} MB, ${ROUNDS} rounds (MB/s)`)
console.log("round  direct node-pty  through /pty/:id/connect  ratio")
for (const row of rows) {
  console.log(`${String(row.round).padEnd(5)}  ${row.direct.toFixed(1).padStart(15)}  ${row.server.toFixed(1).padStart(24)}  ${(row.server / row.direct).toFixed(2)}`)
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!
console.log(`median ratio (server/direct): ${median(rows.map((row) => row.server / row.direct)).toFixed(2)}`)
process.exit(0)
