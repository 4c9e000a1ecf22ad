import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, type ApiOptions } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { startMcpHttpServer, type McpHttpServer } from "../support/mcp/http-server.ts"
import { startPairedEdge, type PairedEdge } from "../support/paired-edge.ts"
import { REPO_ROOT, targetKinds } from "../support/targets.ts"

/**
 * MCP servers on the edge with a machine behind it: a local (stdio) server runs on the machine, reached through
 * the tunnel; a remote one is called from the edge itself. Both in one turn, with the permission asked at the edge.
 */

const TSX = join(REPO_ROOT, "node_modules", ".bin", "tsx")
const STDIO_SERVER = join(REPO_ROOT, "test", "support", "mcp", "stdio-server.ts")

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(!targetKinds().includes("worker") || !targetKinds().includes("local"))("MCP servers on the edge with a paired machine", () => {
  let paired: PairedEdge
  let model: ModelServer
  let remote: McpHttpServer
  const state = mkdtempSync(join(tmpdir(), "oc-edge-mcp-"))
  const pidFile = join(state, "pids")
  const pids = () => readFileSync(pidFile, "utf8").split("\n").filter(Boolean).map(Number)

  const edge = (method: string, path: string, options: ApiOptions = {}) =>
    api(paired.edge, method, path, { directory: paired.machine.directory, ...options, headers: { ...paired.clientHeaders, ...options.headers } })

  beforeAll(async () => {
    ;[paired, model, remote] = await Promise.all([startPairedEdge(), startModelServer(), startMcpHttpServer({ label: "edge-remote" })])
    // Local servers start in the request's directory, on the machine.
    mkdirSync(paired.machine.directory, { recursive: true })
    const configured = await edge("PATCH", "/config", { body: { ...fakeProviderConfig(model.baseURL), permission: { "loc_*": "ask" } } })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await Promise.all([paired?.stop(), model?.close(), remote?.close()])
    rmSync(state, { recursive: true, force: true })
  })

  test("a local server runs on the machine and a remote one from the edge: statuses, tools in a turn, permission asked at the edge", async () => {
    const local = await edge("POST", "/mcp", {
      body: { name: "loc", config: { type: "local", command: [TSX, STDIO_SERVER], environment: { MCP_PID_FILE: pidFile, MCP_LABEL: "machine" } } },
    })
    expect(local.json?.loc, local.text).toEqual({ status: "connected" })
    const both = await edge("POST", "/mcp", { body: { name: "web", config: { type: "remote", url: remote.url } } })
    expect(both.json).toEqual({ loc: { status: "connected" }, web: { status: "connected" } })
    expect(pids()).toHaveLength(1)

    model.script({ toolCalls: [{ name: "loc_echo", input: { text: "from the edge" } }, { name: "web_echo", input: { text: "too" } }] }, "done")
    const session = (await edge("POST", "/session", { body: {} })).json
    const answer = edge("POST", `/session/${session.id}/message`, { body: { parts: [text("use both")] } })
    const asked = await until(async () => ((await edge("GET", "/permission")).json as any[]).find((request) => request.sessionID === session.id), {
      what: "the permission request",
      timeoutMs: 60_000,
    })
    expect(asked).toMatchObject({ permission: "loc_echo", patterns: ["*"] })
    await edge("POST", `/permission/${asked.id}/reply`, { body: { reply: "once" } })
    expect((await answer).status).toBe(200)

    const step = model.requests.filter((request) => request.kind === "step").at(-2)!
    expect(step.body.tools.map((tool: any) => tool.function.name)).toEqual(expect.arrayContaining(["loc_echo", "web_echo", "loc_say_hello"]))
    const parts = (await edge("GET", `/session/${session.id}/message`)).json.flatMap((message: any) => message.parts)
    const output = (tool: string) => parts.find((part: any) => part.type === "tool" && part.tool === tool)?.state
    expect(output("loc_echo")).toMatchObject({ status: "completed", output: "machine echo: from the edge" })
    expect(output("web_echo")).toMatchObject({ status: "completed", output: "edge-remote echo: too" })
  })

  test("disconnect at the edge ends the machine's server process; connect starts it again", async () => {
    const [first] = pids()
    expect((await edge("POST", "/mcp/loc/disconnect")).json).toBe(true)
    await until(() => (alive(first!) ? undefined : true), { what: "the machine's server process to end" })
    expect((await edge("GET", "/mcp")).json.loc).toEqual({ status: "disabled" })
    expect((await edge("POST", "/mcp/loc/connect")).json).toBe(true)
    expect((await edge("GET", "/mcp")).json.loc).toEqual({ status: "connected" })
    expect(pids()).toHaveLength(2)
  })

  test("the edge cannot open the user's browser: authenticate answers McpBrowserAuthUnavailableError (OAuth goes through /auth and /auth/callback)", async () => {
    expectNamedError(await edge("POST", "/mcp/web/auth/authenticate"), 400, "McpBrowserAuthUnavailableError")
  })

  test("without the machine's tunnel, a local server is failed with the reason; the remote one stays connected", async () => {
    paired.tunnel.kill9()
    const statuses = await until(async () => {
      const answer = (await edge("GET", "/mcp")).json
      return answer?.loc?.status === "failed" ? answer : undefined
    }, { what: "the local server failed" })
    expect(statuses.loc.error).toContain("No machine is connected")
    expect(statuses.web).toEqual({ status: "connected" })
  })
})
