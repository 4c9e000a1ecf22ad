/**
 * PTY throughput: a large output (default 50 MB) read straight from node-pty, and the same output read
 * through the local agent's `/pty/:id/connect` WebSocket, in the same run. The command waits for a line
 * on stdin before it writes, so timing starts when the reader is ready. Prints MB/s for both and the ratio.
 *
 *   npx tsx bench/pty.ts [--megabytes 50] [--rounds 3]
 */
import { tmpdir } from "node:os"
import { parseArgs } from "node:util"
import * as nodePty from "node-pty"
import WebSocket from "ws"
import { agentBundle, type Child, removeTempDirs, sleep, startChild, stopChild, tempDir, waitForOutput, withTimeout } from "./support.ts"

const { values } = parseArgs({ options: { megabytes: { type: "string", default: "50" }, rounds: { type: "string", default: "3" } } })
const BYTES = Number(values.megabytes) * 1024 * 1024
const ROUNDS = Number(values.rounds)
const COMMAND = "bash"
// It sleeps after writing: node-pty can drop the last few KB of a process that exits at once.
const ARGS = ["--noprofile", "--norc", "-c", `stty raw -echo; read -r _; head -c ${BYTES} /dev/zero | tr '\\0' a; sleep 60`]
const TIMEOUT_MS = 120_000

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
  try {
    await sleep(300)
    started = performance.now()
    child.write("\n")
    return await withTimeout("direct", done, TIMEOUT_MS)
  } finally {
    child.kill()
  }
}

async function startServer(state: string): Promise<{ url: string; child: Child }> {
  const child = startChild("server", process.execPath, [await agentBundle(), "serve", "--port", "0", "--state", state, "--log-level", "warn"])
  const [, url] = await waitForOutput(child, /listening on (http:\/\/\S+)/, 60_000)
  return { url: url!, child }
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
  await sleep(300)
  started = performance.now()
  socket.send("\n")
  const elapsed = await withTimeout("server", done, TIMEOUT_MS)
  socket.close()
  await fetch(`${url}/pty/${pty.id}?directory=${encodeURIComponent(directory)}`, { method: "DELETE" })
  return elapsed
}

const state = tempDir("bench-pty-")
const server = await startServer(state)
const rate = (ms: number) => BYTES / 1024 / 1024 / (ms / 1000)
const rows: { round: number; direct: number; server: number }[] = []
try {
  for (let round = 1; round <= ROUNDS; round++) {
    rows.push({ round, direct: rate(await direct()), server: rate(await throughServer(server.url)) })
  }
} finally {
  await stopChild(server.child)
  removeTempDirs()
}
console.log(`PTY output of ${values.megabytes} MB, ${ROUNDS} rounds (MB/s)`)
console.log("round  direct node-pty  through /pty/:id/connect  ratio")
for (const row of rows) {
  console.log(`${String(row.round).padEnd(5)}  ${row.direct.toFixed(1).padStart(15)}  ${row.server.toFixed(1).padStart(24)}  ${(row.server / row.direct).toFixed(2)}`)
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!
console.log(`median ratio (server/direct): ${median(rows.map((row) => row.server / row.direct)).toFixed(2)}`)
process.exit(0)
