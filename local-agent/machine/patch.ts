import type { FileContent } from "../../shared/schema/machine.ts"

export type FilePatch = NonNullable<FileContent["patch"]>
type Hunk = FilePatch["hunks"][number]

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/

function fileName(header: string): string {
  // `--- a/src/x.ts` / `+++ b/src/x.ts` / `--- /dev/null`, possibly followed by a tab and a timestamp
  const name = header.slice(4).split("\t")[0]!
  return name.startsWith("a/") || name.startsWith("b/") ? name.slice(2) : name
}

/**
 * The first file of a unified diff (`git diff` output) as structured hunks, the shape jsdiff's
 * `structuredPatch` gives upstream: file names without the a/ b/ prefixes, each hunk's ranges and lines
 * (with their ` `, `-`, `+` or `\` marker). Undefined when the text holds no hunk (e.g. a binary diff).
 */
export function parseUnifiedDiff(diff: string, fallbackName: string): FilePatch | undefined {
  const lines = diff.split("\n")
  if (lines.at(-1) === "") lines.pop()
  let oldFileName = fallbackName
  let newFileName = fallbackName
  let index: string | undefined
  const hunks: Hunk[] = []
  let hunk: Hunk | undefined
  let remainingOld = 0
  let remainingNew = 0
  for (const line of lines) {
    if (hunk && (remainingOld > 0 || remainingNew > 0 || line.startsWith("\\"))) {
      const marker = line[0]
      if (marker === "\\") {
        hunk.lines.push(line)
        continue
      }
      if (marker === " " || line === "") {
        hunk.lines.push(line === "" ? " " : line)
        remainingOld--
        remainingNew--
        continue
      }
      if (marker === "-") {
        hunk.lines.push(line)
        remainingOld--
        continue
      }
      if (marker === "+") {
        hunk.lines.push(line)
        remainingNew--
        continue
      }
    }
    const header = HUNK_HEADER.exec(line)
    if (header) {
      hunk = {
        oldStart: Number(header[1]),
        oldLines: header[2] === undefined ? 1 : Number(header[2]),
        newStart: Number(header[3]),
        newLines: header[4] === undefined ? 1 : Number(header[4]),
        lines: [],
      }
      remainingOld = hunk.oldLines
      remainingNew = hunk.newLines
      hunks.push(hunk)
      continue
    }
    if (line.startsWith("diff --git ") && hunks.length > 0) break // only the first file
    if (line.startsWith("index ")) index = line.slice("index ".length)
    else if (line.startsWith("--- ")) oldFileName = fileName(line)
    else if (line.startsWith("+++ ")) newFileName = fileName(line)
  }
  if (hunks.length === 0) return undefined
  return { oldFileName, newFileName, oldHeader: "", newHeader: "", hunks, ...(index ? { index } : {}) }
}
