import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, test } from "vitest"
import { api, expectNamedError, useTarget } from "../support/http.ts"
import { targetKinds } from "../support/targets.ts"

/**
 * The machine's file, search, path and vcs routes, same requests on both runtimes: the local agent has a
 * machine and answers them; the edge has none until one is paired and answers 503 MachineUnavailable,
 * before looking at the input.
 */

const directory = realpathSync(mkdtempSync(join(tmpdir(), "oc-machine-files-")))
writeFileSync(join(directory, "README.md"), "hello machine\n")
const repositories: string[] = []
afterAll(() => Promise.all([directory, ...repositories].map((folder) => rm(folder, { recursive: true, force: true }))))

const VALID: [string, string][] = [
  ["file.list", "/file?path="],
  ["file.read", "/file/content?path=README.md"],
  ["file.status", "/file/status"],
  ["find.text", "/find?pattern=hello"],
  ["find.files", "/find/file?query=read"],
  ["path.get", "/path"],
  ["vcs.get", "/vcs"],
  ["vcs.status", "/vcs/status"],
  ["vcs.diff", "/vcs/diff?mode=git"],
]

const INVALID: [string, string][] = [
  ["file.list without path", "/file"],
  ["file.read without path", "/file/content"],
  ["find.text without pattern", "/find"],
  // no process takes a NUL in its arguments (found by the fuzzer: it answered 500)
  ["find.text with a NUL in the pattern", "/find?pattern=a%00b"],
  ["find.files with a bad limit", "/find/file?query=x&limit=-1"],
  ["vcs.diff without mode", "/vcs/diff"],
  ["vcs.diff with an unknown mode", "/vcs/diff?mode=stash"],
  ["vcs.diff with a negative context", "/vcs/diff?mode=git&context=-1"],
]

describe.each(targetKinds())("machine files, search, path, vcs [%s]", (kind) => {
  const target = useTarget(kind)

  test.each(VALID)("%s: GET %s", async (_operation, path) => {
    const response = await api(target(), "GET", path, { directory })
    if (kind === "worker") {
      expectNamedError(response, 503, "MachineUnavailable")
      return
    }
    expect(response.status, response.text).toBe(200)
    expect(response.headers.get("content-type")).toMatch(/application\/json/)
  })

  test("the local answers have upstream's shapes", async () => {
    if (kind === "worker") return
    const list = await api(target(), "GET", "/file?path=", { directory })
    expect(list.json).toEqual([{ name: "README.md", path: "README.md", absolute: join(directory, "README.md"), type: "file", ignored: false }])
    const content = await api(target(), "GET", "/file/content?path=README.md", { directory })
    expect(content.json).toEqual({ type: "text", content: "hello machine\n" })
    const hits = await api(target(), "GET", "/find?pattern=machine", { directory })
    expect(hits.json).toEqual([
      {
        path: { text: "README.md" },
        lines: { text: "hello machine\n" },
        line_number: 1,
        absolute_offset: 0,
        submatches: [{ match: { text: "machine" }, start: 6, end: 13 }],
      },
    ])
    expect((await api(target(), "GET", "/find/file?query=read", { directory })).json).toEqual(["README.md"])
    expect((await api(target(), "GET", "/file/status", { directory })).json).toEqual([])
    expect((await api(target(), "GET", "/vcs", { directory })).json).toEqual({})
    expect((await api(target(), "GET", "/vcs/status", { directory })).json).toEqual([])
    expect((await api(target(), "GET", "/vcs/diff?mode=git", { directory })).json).toEqual([])
    expect((await api(target(), "GET", "/path", { directory })).json).toMatchObject({ directory, worktree: "/" })
  })

  test("in a git repository: changed files against HEAD and the branch's fork point, paths from the worktree root", async () => {
    if (kind === "worker") return
    const repo = gitRepository()
    const sub = join(repo, "sub")
    writeFileSync(join(repo, "tracked.txt"), "one\ntwo, changed\n")
    rmSync(join(sub, "gone.txt"))
    writeFileSync(join(sub, "new.txt"), "fresh\n")
    const status = await api(target(), "GET", "/vcs/status", { directory: repo })
    expect(status.json).toEqual([
      { file: "sub/gone.txt", additions: 0, deletions: 1, status: "deleted" },
      { file: "sub/new.txt", additions: 1, deletions: 0, status: "added" },
      { file: "tracked.txt", additions: 1, deletions: 1, status: "modified" },
    ])
    // a subdirectory sees its own files, still named from the root
    expect((await api(target(), "GET", "/vcs/status", { directory: sub })).json.map((file: { file: string }) => file.file)).toEqual(["sub/gone.txt", "sub/new.txt"])
    const diff = await api(target(), "GET", "/vcs/diff?mode=git", { directory: repo })
    expect(diff.json.map(({ patch: _patch, ...file }: { patch: string }) => file)).toEqual(status.json)
    // the whole file is context unless asked otherwise
    expect(diff.json[2].patch).toBe(
      "diff --git a/tracked.txt b/tracked.txt\nindex 814f4a4..39c5892 100644\n--- a/tracked.txt\n+++ b/tracked.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+two, changed\n",
    )
    expect(diff.json[1].patch).toContain("new file mode 100644\n")
    expect(diff.json[1].patch).toContain("+++ b/sub/new.txt\n@@ -0,0 +1 @@\n+fresh\n")
    const narrow = await api(target(), "GET", "/vcs/diff?mode=git&context=0", { directory: repo })
    expect(narrow.json[2].patch).toContain("@@ -2 +2 @@ one\n-two\n+two, changed\n")
    // on the default branch there is no fork point: nothing; on a branch, what it changed since it left
    expect((await api(target(), "GET", "/vcs/diff?mode=branch", { directory: repo })).json).toEqual([])
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature work")
    const branch = await api(target(), "GET", "/vcs/diff?mode=branch&context=1", { directory: repo })
    expect(branch.json.map((file: { file: string; status: string }) => [file.file, file.status])).toEqual([
      ["sub/gone.txt", "deleted"],
      ["sub/new.txt", "added"],
      ["tracked.txt", "modified"],
    ])
    expect((await api(target(), "GET", "/vcs/diff?mode=git", { directory: repo })).json).toEqual([])
    expect((await api(target(), "GET", "/vcs", { directory: repo })).json).toEqual({ branch: "feature", default_branch: "main" })
  })

  test.each(INVALID)("%s: 400 locally, 503 on the edge (no machine comes first)", async (_name, path) => {
    const response = await api(target(), "GET", path, { directory })
    if (kind === "worker") expectNamedError(response, 503, "MachineUnavailable")
    else expectNamedError(response, 400, "BadRequest")
  })

  test("a path outside the directory: 403 locally, 503 on the edge", async () => {
    const response = await api(target(), "GET", "/file/content?path=../etc/passwd", { directory })
    if (kind === "worker") expectNamedError(response, 503, "MachineUnavailable")
    else expectNamedError(response, 403, "PathOutsideDirectoryError")
  })

  test("the OpenAPI document names the routes with upstream's operationIds", async () => {
    const doc = (await api(target(), "GET", "/doc")).json
    const operations = new Map<string, string>()
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation?.operationId) operations.set(operation.operationId, `${method.toUpperCase()} ${path}`)
      }
    }
    for (const [operationId, path] of VALID) {
      expect(operations.get(operationId), operationId).toBe(`GET ${path.split("?")[0]}`)
    }
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(
      expect.arrayContaining([
        "FileNode",
        "FileContent",
        "File",
        "TextMatch",
        "Path",
        "VcsInfo",
        "VcsFileStatus",
        "VcsFileDiff",
        "PathOutsideDirectoryError",
        "MachineUnavailable",
      ]),
    )
  })
})

/** A committed repository on `main`: a file at the root and one in `sub/`. */
function gitRepository(): string {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), "oc-machine-vcs-")))
  mkdirSync(join(repo, "sub"))
  writeFileSync(join(repo, "tracked.txt"), "one\ntwo\n")
  writeFileSync(join(repo, "sub", "gone.txt"), "bye\n")
  git(repo, "init", "-q", "-b", "main")
  git(repo, "add", "-A")
  git(repo, "commit", "-q", "-m", "root")
  repositories.push(repo)
  return repo
}

function git(cwd: string, ...args: string[]) {
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd })
}
