import { mkdtempSync, realpathSync, writeFileSync } from "node:fs"
import { rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, test } from "vitest"
import { api, expectNamedError, useTarget } from "../support/http.ts"
import { targetKinds } from "../support/targets.ts"
import { TOOLS } from "../../shared/tools.ts"

/** The tool routes on both runtimes: the same static listing; executing needs a machine (503 on the edge without one). */

const directory = realpathSync(mkdtempSync(join(tmpdir(), "oc-tool-conformance-")))
writeFileSync(join(directory, "README.md"), "hello tools\n")
afterAll(() => rm(directory, { recursive: true, force: true }))

describe.each(targetKinds())("tools [%s]", (kind) => {
  const target = useTarget(kind)

  test("GET /tool, /experimental/tool/ids and /experimental/tool: the same built-in tools", async () => {
    const tools = await api(target(), "GET", "/tool")
    expect(tools.status, tools.text).toBe(200)
    expect(tools.json).toEqual(JSON.parse(JSON.stringify(TOOLS)))
    const ids = await api(target(), "GET", "/experimental/tool/ids")
    expect(ids.json).toEqual(["read", "list", "glob", "grep", "write", "edit", "bash"])
    const experimental = await api(target(), "GET", "/experimental/tool?provider=p&model=m", { directory })
    expect(experimental.json).toEqual(tools.json)
  })

  test("POST /tool/:id/execute runs on the machine; 503 on the edge without one", async () => {
    const response = await api(target(), "POST", "/tool/read/execute", { body: { filePath: "README.md" }, directory })
    if (kind === "worker") {
      expectNamedError(response, 503, "MachineUnavailable")
      expectNamedError(await api(target(), "POST", "/tool/teleport/execute", { body: {}, directory }), 503, "MachineUnavailable")
      return
    }
    expect(response.status, response.text).toBe(200)
    expect(response.json).toEqual({ title: "README.md", output: expect.stringContaining("00001| hello tools"), metadata: expect.any(Object) })
  })

  test("every tool route is in /doc", async () => {
    const doc = (await api(target(), "GET", "/doc")).json
    expect(doc.paths["/tool"].get.operationId).toBe("tool.list.all")
    expect(doc.paths["/tool/{id}/execute"].post.operationId).toBe("tool.execute")
    expect(doc.paths["/tool/{id}/execute"].post.requestBody).toBeDefined()
    expect(Object.keys(doc.paths["/tool/{id}/execute"].post.responses).sort()).toEqual(["200", "400", "403", "404", "503"])
    expect(doc.paths["/experimental/tool/ids"].get.operationId).toBe("tool.ids")
    expect(doc.paths["/experimental/tool"].get.operationId).toBe("tool.list")
  })
})
