import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { unifiedDiff } from "../../local-agent/machine/unified-diff.ts"

const lines = (count: number, name = (index: number) => `line ${index}`) => Array.from({ length: count }, (_, index) => `${name(index)}\n`).join("")

/** GNU patch applies the diff to `before`; the result must be `after`. */
function applied(before: string, patchText: string): string {
  const directory = mkdtempSync(join(tmpdir(), "oc-unified-diff-"))
  writeFileSync(join(directory, "before.txt"), before)
  writeFileSync(join(directory, "change.patch"), patchText)
  execFileSync("patch", ["--silent", "-o", join(directory, "after.txt"), join(directory, "before.txt"), join(directory, "change.patch")])
  return readFileSync(join(directory, "after.txt"), "utf8")
}

describe("unifiedDiff", () => {
  const cases: [string, string, string][] = [
    ["a new file", "", "hello\nworld\n"],
    ["an emptied file", "hello\nworld\n", ""],
    ["a last line without a newline gains one", "a\nb", "a\nb\n"],
    ["changes far apart make two hunks", lines(40), lines(40).replace("line 3\n", "LINE 3\n").replace("line 30\n", "")],
    ["changes close together share a hunk", lines(20), lines(20).replace("line 5\n", "five\n").replace("line 9\n", "nine\nand more\n")],
    ["every line different", lines(30), lines(25, (index) => `other ${index}`)],
    ["a large file with every other line changed", lines(3000), lines(3000, (index) => (index % 2 ? `odd ${index}` : `line ${index}`))],
  ]

  test.each(cases)("%s: the patch turns the old text into the new, and counts its lines", (_, before, after) => {
    const diff = unifiedDiff("/project/file.txt", before, after)
    expect(diff.patch.startsWith(`Index: /project/file.txt\n${"=".repeat(67)}\n--- /project/file.txt\n+++ /project/file.txt\n@@ `)).toBe(true)
    expect(applied(before, diff.patch)).toBe(after)
    const body = diff.patch.split("\n").filter((line) => !line.startsWith("---") && !line.startsWith("+++"))
    expect(diff.additions).toBe(body.filter((line) => line.startsWith("+")).length)
    expect(diff.deletions).toBe(body.filter((line) => line.startsWith("-")).length)
  })

  test("two hunks far apart are numbered as jsdiff numbers them, with four lines of context", () => {
    const { patch } = unifiedDiff("f", lines(40), lines(40).replace("line 3\n", "LINE 3\n").replace("line 30\n", ""))
    expect(patch.match(/^@@ .* @@$/gm)).toEqual(["@@ -1,8 +1,8 @@", "@@ -27,9 +27,8 @@"])
  })
})
