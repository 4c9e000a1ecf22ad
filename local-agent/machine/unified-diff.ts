/** Unchanged lines kept around each change, as jsdiff's createTwoFilesPatch (which upstream uses) keeps. */
const CONTEXT_LINES = 4
/** Beyond this many differing lines the diff stops searching for a shortest script (its memory grows with the square) and replaces the rest whole. */
const MAX_EDIT_DISTANCE = 1000

type Op = { kind: " " | "-" | "+"; line: string; lastWithoutNewline: boolean }

export interface FileDiff {
  /** `Index:` header, `---`/`+++` lines naming `fileName`, then `@@` hunks: jsdiff's createTwoFilesPatch format. */
  patch: string
  additions: number
  deletions: number
}

/** A line-by-line unified diff of one file's text before and after a change, as upstream's edit tool records it. */
export function unifiedDiff(fileName: string, before: string, after: string): FileDiff {
  const ops = diffLines(splitLines(before), splitLines(after))
  const header = `Index: ${fileName}\n${"=".repeat(67)}\n--- ${fileName}\n+++ ${fileName}\n`
  return {
    patch: header + hunks(ops).join(""),
    additions: ops.filter((op) => op.kind === "+").length,
    deletions: ops.filter((op) => op.kind === "-").length,
  }
}

interface Line {
  text: string
  lastWithoutNewline: boolean
}

function splitLines(text: string): Line[] {
  if (text === "") return []
  const parts = text.split("\n")
  const endsWithNewline = parts[parts.length - 1] === ""
  if (endsWithNewline) parts.pop()
  return parts.map((part, index) => ({ text: part, lastWithoutNewline: !endsWithNewline && index === parts.length - 1 }))
}

const same = (a: Line, b: Line) => a.text === b.text && a.lastWithoutNewline === b.lastWithoutNewline

/** Myers' O(ND) shortest edit script over the lines between the common prefix and suffix. */
function diffLines(a: Line[], b: Line[]): Op[] {
  let start = 0
  while (start < a.length && start < b.length && same(a[start]!, b[start]!)) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && same(a[endA - 1]!, b[endB - 1]!)) {
    endA--
    endB--
  }
  const keep = (line: Line): Op => ({ kind: " ", line: line.text, lastWithoutNewline: line.lastWithoutNewline })
  const middle = shortestScript(a.slice(start, endA), b.slice(start, endB))
  return [...a.slice(0, start).map(keep), ...middle, ...a.slice(endA).map(keep)]
}

function shortestScript(a: Line[], b: Line[]): Op[] {
  const n = a.length
  const m = b.length
  const max = Math.min(n + m, MAX_EDIT_DISTANCE)
  const offset = max + 1
  const v = new Int32Array(2 * max + 3)
  const trace: Int32Array[] = []
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice())
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1
      let y = x - k
      while (x < n && y < m && same(a[x]!, b[y]!)) {
        x++
        y++
      }
      v[offset + k] = x
      if (x >= n && y >= m) return backtrack(trace, offset, a, b)
    }
  }
  // Too different to search further: every old line removed, every new line added.
  return [...a.map((line) => op("-", line)), ...b.map((line) => op("+", line))]
}

const op = (kind: Op["kind"], line: Line): Op => ({ kind, line: line.text, lastWithoutNewline: line.lastWithoutNewline })

function backtrack(trace: Int32Array[], offset: number, a: Line[], b: Line[]): Op[] {
  const ops: Op[] = []
  let x = a.length
  let y = b.length
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!
    const k = x - y
    const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
    const prevK = down ? k + 1 : k - 1
    const prevX = v[offset + prevK]!
    const prevY = prevX - prevK
    while (x > prevX && y > prevY) {
      y--
      ops.push(op(" ", a[--x]!))
    }
    if (d === 0) break
    if (down) ops.push(op("+", b[--y]!))
    else ops.push(op("-", a[--x]!))
  }
  return ops.reverse()
}

/** Groups the script into hunks of changes with their surrounding context, numbered from 1. */
function hunks(ops: Op[]): string[] {
  const changed = ops.flatMap((entry, index) => (entry.kind === " " ? [] : [index]))
  const result: string[] = []
  let next = 0
  while (next < changed.length) {
    const from = Math.max(0, changed[next]! - CONTEXT_LINES)
    let last = changed[next]!
    while (next + 1 < changed.length && changed[next + 1]! - last <= 2 * CONTEXT_LINES) last = changed[++next]!
    next++
    const to = Math.min(ops.length, last + CONTEXT_LINES + 1)
    let oldStart = 1
    let newStart = 1
    for (const entry of ops.slice(0, from)) {
      if (entry.kind !== "+") oldStart++
      if (entry.kind !== "-") newStart++
    }
    const body = ops.slice(from, to)
    const oldLines = body.filter((entry) => entry.kind !== "+").length
    const newLines = body.filter((entry) => entry.kind !== "-").length
    // An empty side is numbered from the line before it, as jsdiff (and GNU diff) number it.
    const header = `@@ -${oldLines === 0 ? oldStart - 1 : oldStart},${oldLines} +${newLines === 0 ? newStart - 1 : newStart},${newLines} @@\n`
    const lines = body.map((entry) => `${entry.kind}${entry.line}\n${entry.lastWithoutNewline ? "\\ No newline at end of file\n" : ""}`)
    result.push(header + lines.join(""))
  }
  return result
}
