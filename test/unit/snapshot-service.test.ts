import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, test } from "vitest"
import { createSnapshotService, SNAPSHOT_MAX_FILE_BYTES } from "../../local-agent/machine/snapshot.ts"

/** The machine's snapshot service on its own: what it refuses, and what it never touches. */
describe("snapshot service", () => {
  const made: string[] = []
  const folder = (prefix: string) => {
    const path = mkdtempSync(join(tmpdir(), prefix))
    made.push(path)
    return path
  }
  afterAll(() => made.forEach((path) => rmSync(path, { recursive: true, force: true })))

  test("a revert touches only files inside the worktree; a hash that is not hex is refused", async () => {
    const project = folder("oc-snap-project-")
    const outside = join(folder("oc-snap-outside-"), "precious.txt")
    writeFileSync(outside, "keep me\n")
    writeFileSync(join(project, "a.txt"), "before\n")
    const snapshots = createSnapshotService({ stateDirectory: folder("oc-snap-state-") })
    const before = await snapshots.track(project)
    writeFileSync(join(project, "a.txt"), "after\n")
    writeFileSync(join(project, "b.txt"), "new\n")
    const patch = await snapshots.patch(project, before)
    expect(patch.files.sort()).toEqual([join(project, "a.txt"), join(project, "b.txt")])

    await snapshots.revert(project, [{ hash: before, files: [...patch.files, outside, join(project, "..", "precious.txt")] }])
    expect(readFileSync(join(project, "a.txt"), "utf8")).toBe("before\n")
    expect(existsSync(join(project, "b.txt"))).toBe(false)
    expect(readFileSync(outside, "utf8")).toBe("keep me\n")

    await expect(snapshots.revert(project, [{ hash: "--output=/tmp/x", files: [join(project, "a.txt")] }])).rejects.toMatchObject({ name: "BadRequest" })
    await expect(snapshots.restore(project, "HEAD~1")).rejects.toMatchObject({ name: "BadRequest" })
  })

  test("a new file over 2 MB stays out of snapshots and diffs, as upstream's; one already snapshotted is still followed; a shrunk one is taken", async () => {
    const project = folder("oc-snap-large-")
    writeFileSync(join(project, "grows.txt"), "small\n")
    const snapshots = createSnapshotService({ stateDirectory: folder("oc-snap-state-") })
    const before = await snapshots.track(project)
    const large = "x".repeat(SNAPSHOT_MAX_FILE_BYTES + 1)
    writeFileSync(join(project, "dump.log"), large)
    writeFileSync(join(project, "note.txt"), "small and new\n")
    writeFileSync(join(project, "grows.txt"), large)
    expect((await snapshots.patch(project, before)).files.sort()).toEqual([join(project, "grows.txt"), join(project, "note.txt")])
    const after = await snapshots.track(project)
    expect((await snapshots.diff(project, before, after)).map((diff) => diff.file).sort()).toEqual(["grows.txt", "note.txt"])
    // once small enough it is snapshotted like any other file
    writeFileSync(join(project, "dump.log"), "trimmed\n")
    expect((await snapshots.patch(project, after)).files).toEqual([join(project, "dump.log")])
  })
})
