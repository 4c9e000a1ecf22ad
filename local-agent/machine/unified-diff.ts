import { formatPatch, structuredPatch } from "diff"

export interface FileDiff {
  /** `Index:` header, `---`/`+++` lines naming the file, then `@@` hunks with four lines of context. */
  patch: string
  additions: number
  deletions: number
}

/**
 * A line-by-line unified diff of one file's text before and after a change, as upstream's edit tool records it
 * (jsdiff's createTwoFilesPatch with the same name on both sides, which is what adds the `Index:` header).
 */
export function unifiedDiff(fileName: string, before: string, after: string): FileDiff {
  const structured = structuredPatch(fileName, fileName, before, after)
  const lines = structured.hunks.flatMap((hunk) => hunk.lines)
  return {
    patch: formatPatch(structured),
    additions: lines.filter((line) => line.startsWith("+")).length,
    deletions: lines.filter((line) => line.startsWith("-")).length,
  }
}

/**
 * A file's patch between two snapshots as upstream 1.18 reports it in `SnapshotFileDiff.patch`: jsdiff's
 * two-files patch with empty headers, so the `---`/`+++` lines end in a tab.
 */
export function snapshotPatchText(fileName: string, before: string, after: string): string {
  const text = formatPatch(structuredPatch(fileName, fileName, before, after, "", ""))
  return text.replace(`\n--- ${fileName}\n+++ ${fileName}\n`, `\n--- ${fileName}\t\n+++ ${fileName}\t\n`)
}
