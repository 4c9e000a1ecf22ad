import { mkdtempSync, realpathSync, writeFileSync } from "node:fs"
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
afterAll(() => rm(directory, { recursive: true, force: true }))

const VALID: [string, string][] = [
  ["file.list", "/file?path="],
  ["file.read", "/file/content?path=README.md"],
  ["file.status", "/file/status"],
  ["find.text", "/find?pattern=hello"],
  ["find.files", "/find/file?query=read"],
  ["path.get", "/path"],
  ["vcs.get", "/vcs"],
]

const INVALID: [string, string][] = [
  ["file.list without path", "/file"],
  ["file.read without path", "/file/content"],
  ["find.text without pattern", "/find"],
  ["find.files with a bad limit", "/find/file?query=x&limit=-1"],
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
    expect((await api(target(), "GET", "/path", { directory })).json).toMatchObject({ directory, worktree: "/" })
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
      expect.arrayContaining(["FileNode", "FileContent", "File", "TextMatch", "Path", "VcsInfo", "PathOutsideDirectoryError", "MachineUnavailable"]),
    )
  })
})
