import { mkdtempSync, readdirSync, readlinkSync, realpathSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { api, expectNamedError, until, useTarget } from "../support/http.ts"
import { connect } from "../support/sse.ts"

/** Language servers start slowly on a busy 2-core machine: generous bounded waits, never timing assertions. */
const LSP_WAIT_MS = 60_000

function tsProject() {
  const directory = realpathSync(mkdtempSync(join(tmpdir(), "oc-lsp-")))
  writeFileSync(join(directory, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true }, include: ["*.ts"] }))
  writeFileSync(
    join(directory, "broken.ts"),
    'export function computeTotalPrice(items: number[]): number {\n  return items.reduce((a, b) => a + b, 0)\n}\n\nconst x: number = "a"\nexport default x\n',
  )
  return directory
}

/** Pids of processes whose working directory is `directory` (a language server runs in its root). */
function processesIn(directory: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === directory) pids.push(Number(entry))
    } catch {
      // gone, or not ours
    }
  }
  return pids
}

describe("LSP on the local agent", () => {
  const target = useTarget("local")
  const directory = tsProject()
  const file = join(directory, "broken.ts")

  test(
    "reading a TS file opens it in typescript-language-server: diagnostics event, status, workspace symbols",
    async () => {
      const stream = await connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`)
      try {
        const read = await api(target(), "GET", "/file/content?path=broken.ts", { directory })
        expect(read.status, read.text).toBe(200)
        await stream
          .waitFor(
            (frame) =>
              frame.payload?.type === "lsp.client.diagnostics" &&
              frame.payload.properties.path === file &&
              frame.payload.properties.serverID === "typescript",
            { timeoutMs: LSP_WAIT_MS, what: "lsp.client.diagnostics for broken.ts" },
          )
          .catch((error: Error) => {
            throw new Error(`${error.message}\n${target().output()}`)
          })

        const servers = await until(
          async () => {
            const response = await api(target(), "GET", "/lsp", { directory })
            expect(response.status, response.text).toBe(200)
            return (response.json as any[]).find((server) => server.id === "typescript" && server.status === "connected")
          },
          { timeoutMs: LSP_WAIT_MS, what: "a connected typescript server" },
        )
        expect(servers).toEqual({ id: "typescript", name: "typescript", root: "", status: "connected" })

        const symbols = await until(
          async () => {
            const response = await api(target(), "GET", "/find/symbol?query=computeTotal", { directory })
            expect(response.status, response.text).toBe(200)
            const found = (response.json as any[]).find((symbol) => symbol.name === "computeTotalPrice")
            return found
          },
          { timeoutMs: LSP_WAIT_MS, intervalMs: 500, what: "the workspace symbol computeTotalPrice" },
        )
        expect(symbols).toMatchObject({
          kind: 12,
          location: { uri: expect.stringMatching(/broken\.ts$/), range: { start: { line: 0 } } },
        })
        expect(processesIn(directory).length).toBeGreaterThan(0)
      } finally {
        stream.close()
      }
    },
    LSP_WAIT_MS * 3,
  )

  test(
    "a change on disk to an open file reaches its server (the file watcher sends the new text)",
    async () => {
      writeFileSync(file, "export function computeGrandTotal(items: number[]): number {\n  return items.length\n}\n")
      const renamed = await until(
        async () => {
          const response = await api(target(), "GET", "/find/symbol?query=computeGrand", { directory })
          return (response.json as { name: string }[]).find((symbol) => symbol.name === "computeGrandTotal")
        },
        { timeoutMs: LSP_WAIT_MS, intervalMs: 500, what: "the renamed symbol computeGrandTotal" },
      )
      expect(renamed).toMatchObject({ location: { uri: expect.stringMatching(/broken\.ts$/) } })
    },
    LSP_WAIT_MS * 2,
  )

  test(
    "write and edit report the errors the language server finds in what they wrote",
    async () => {
      const tool = (id: string, args: unknown) => api(target(), "POST", `/tool/${id}/execute`, { directory, body: args })
      const written = await tool("write", { filePath: "typo.ts", content: 'export const y: number = "b"\n' })
      expect(written.status, written.text).toBe(200)
      expect(written.json.output).toContain('LSP errors detected in this file, please fix:\n<diagnostics file="typo.ts">\nERROR [1:14] Type')
      // keyed by the file's absolute path, where the web app's edit and write rows look them up
      expect(written.json.metadata.diagnostics).toEqual({ [join(directory, "typo.ts")]: [expect.objectContaining({ severity: 1, range: expect.any(Object) })] })

      const fixed = await tool("edit", { filePath: "typo.ts", oldString: '"b"', newString: "2" })
      expect(fixed.status, fixed.text).toBe(200)
      expect(fixed.json.output).not.toContain("LSP errors")
      expect(fixed.json.metadata.diagnostics).toEqual({ [join(directory, "typo.ts")]: [] })

      const notes = await tool("write", { filePath: "notes.md", content: "no server for this\n" })
      expect(notes.json.metadata.diagnostics).toEqual({})
    },
    LSP_WAIT_MS * 2,
  )

  test(
    "a language server that crashes is started again and reports diagnostics again",
    async () => {
      const crashed = processesIn(directory)
      expect(crashed.length).toBeGreaterThan(0)
      const stream = await connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`)
      try {
        for (const pid of crashed) process.kill(pid, "SIGKILL")
        await until(() => (processesIn(directory).some((pid) => !crashed.includes(pid)) ? true : undefined), {
          timeoutMs: LSP_WAIT_MS,
          what: "a new language server process",
        })
        expect((await api(target(), "GET", "/file/content?path=broken.ts", { directory })).status).toBe(200)
        await stream.waitFor(
          (frame) => frame.payload?.type === "lsp.client.diagnostics" && frame.payload.properties.path === file,
          { timeoutMs: LSP_WAIT_MS, what: "lsp.client.diagnostics after the restart" },
        )
        // The restarted server reports connected once its initialize completes.
        await until(
          async () => {
            const status = await api(target(), "GET", "/lsp", { directory })
            return (status.json as { id: string; status: string }[]).some((s) => s.id === "typescript" && s.status === "connected")
              ? true
              : undefined
          },
          { timeoutMs: LSP_WAIT_MS, what: "the restarted typescript server to be connected" },
        )
      } finally {
        stream.close()
      }
    },
    LSP_WAIT_MS * 3,
  )

  test("stopping the server leaves no language server behind", async () => {
    expect(processesIn(directory).length).toBeGreaterThan(0)
    await target().stop()
    await until(() => (processesIn(directory).length === 0 ? true : undefined), {
      timeoutMs: 30_000,
      what: "the language server processes to end",
    })
  }, 60_000)
})

describe("LSP on the edge without a machine", () => {
  const target = useTarget("worker")

  test("answers 503 MachineUnavailable", async () => {
    expectNamedError(await api(target(), "GET", "/lsp"), 503, "MachineUnavailable")
    expectNamedError(await api(target(), "GET", "/find/symbol?query=x"), 503, "MachineUnavailable")
  })
})
