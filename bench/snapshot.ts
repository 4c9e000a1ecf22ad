/**
 * Snapshot cost on a large worktree: 10,000 files (a git project), 10 of them changed by a "step". Times what
 * the machine does at the end of a step (a new snapshot, the step's patch against the one before it, and the
 * per-file diff between the two) against `git status --porcelain` on the same tree, in the same run, and prints
 * the ratio. The first snapshot of the tree (every file hashed once) is reported apart.
 *
 *   npx tsx bench/snapshot.ts [--files 10000] [--changed 10] [--rounds 7]
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { createSnapshotService } from "../local-agent/machine/snapshot.ts"
import { removeTempDirs, tempDir } from "./support.ts"

const { values } = parseArgs({ options: { files: { type: "string", default: "10000" }, changed: { type: "string", default: "10" }, rounds: { type: "string", default: "7" } } })
const FILES = Number(values.files)
const CHANGED = Number(values.changed)
const ROUNDS = Number(values.rounds)
const PER_FOLDER = 100

const fileName = (index: number) => join(`dir${String(Math.floor(index / PER_FOLDER)).padStart(3, "0")}`, `file${index}.ts`)
const content = (index: number, round: number) => `export const value${index} = ${round}\n${"// filler line of a source file\n".repeat(8)}`

function makeTree(): string {
  const root = tempDir("bench-snapshot-tree-")
  for (let index = 0; index < FILES; index++) {
    const name = join(root, fileName(index))
    if (index % PER_FOLDER === 0) mkdirSync(join(name, ".."), { recursive: true })
    writeFileSync(name, content(index, 0))
  }
  writeFileSync(join(root, ".gitignore"), "node_modules/\n")
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=b@b", "-c", "user.name=b", ...args], { cwd: root, stdio: "pipe" })
  git("init", "-q")
  git("add", "-A")
  git("commit", "-qm", "tree")
  return root
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const ms = (value: number) => `${value.toFixed(1)} ms`

async function main() {
  const root = makeTree()
  const snapshots = createSnapshotService({ stateDirectory: tempDir("bench-snapshot-state-") })
  let started = performance.now()
  let previous = await snapshots.track(root)
  const first = performance.now() - started
  // git status once first, so both start with a warm index (and the OS cache holds the tree for both).
  execFileSync("git", ["status", "--porcelain"], { cwd: root })

  const snapshotTimes: number[] = []
  const statusTimes: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    for (let changed = 0; changed < CHANGED; changed++) {
      const index = (round * 997 + changed * 1009) % FILES
      writeFileSync(join(root, fileName(index)), content(index, round))
    }
    started = performance.now()
    const next = await snapshots.track(root)
    const patch = await snapshots.patch(root, previous, next)
    const diffs = await snapshots.diff(root, previous, next)
    snapshotTimes.push(performance.now() - started)
    if (patch.files.length !== CHANGED || diffs.length !== CHANGED) throw new Error(`expected ${CHANGED} changed files, got ${patch.files.length} and ${diffs.length}`)
    previous = next

    started = performance.now()
    const status = execFileSync("git", ["status", "--porcelain"], { cwd: root, encoding: "utf8" })
    statusTimes.push(performance.now() - started)
    if (status.split("\n").filter(Boolean).length === 0) throw new Error("git status saw no change")
  }

  const snapshot = median(snapshotTimes)
  const status = median(statusTimes)
  console.log(`worktree: ${FILES} files, ${CHANGED} changed per round, ${ROUNDS} rounds (medians)`)
  console.log(`first snapshot (every file hashed): ${ms(first)}`)
  console.log(`snapshot + patch + diff after a step: ${ms(snapshot)} (min ${ms(Math.min(...snapshotTimes))}, max ${ms(Math.max(...snapshotTimes))})`)
  console.log(`git status --porcelain:              ${ms(status)} (min ${ms(Math.min(...statusTimes))}, max ${ms(Math.max(...statusTimes))})`)
  console.log(`ratio snapshot+diff / git status: ${(snapshot / status).toFixed(2)}`)
}

try {
  await main()
} finally {
  removeTempDirs()
}
