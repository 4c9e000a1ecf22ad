import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { TINY_PNG } from "../support/mcp/tools.ts"
import { OAUTH_TEST_CODE, startMcpHttpServer, startMcpSseServer, type McpHttpServer } from "../support/mcp/http-server.ts"
import { connect } from "../support/sse.ts"
import { REPO_ROOT, startTarget, targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

/**
 * MCP servers running, on both runtimes: a remote server over streamable HTTP (a server in this process on
 * 127.0.0.1), statuses as upstream reports them, connect and disconnect, the servers' tools in a turn as
 * `<server>_<tool>`; locally also a stdio server written for the test (asked for permission, crashed and
 * restarted, ended with the agent). The edge's local servers run through its machine: test/edge/mcp.test.ts.
 */

const TSX = join(REPO_ROOT, "node_modules", ".bin", "tsx")
const STDIO_SERVER = join(REPO_ROOT, "test", "support", "mcp", "stdio-server.ts")

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A port nobody listens on now (the test's redirect URI), so parallel runs never share upstream's fixed one. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

const pids = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number)

async function prompt(target: Target, directory: string, words: string) {
  const session = (await api(target, "POST", "/session", { directory, body: {} })).json
  const answer = api(target, "POST", `/session/${session.id}/message`, { directory, body: { parts: [text(words)] } })
  return { session, answer }
}

function toolPart(messages: any[], tool: string) {
  return messages.flatMap((message) => message.parts).find((part: any) => part.type === "tool" && part.tool === tool)
}

describe.each(targetKinds())("MCP servers [%s]", (kind) => {
  let target: Target
  let model: ModelServer
  let remote: McpHttpServer
  let locked: McpHttpServer
  const directory = uniqueDirectory("mcp")

  beforeAll(async () => {
    mkdirSync(directory, { recursive: true })
    ;[target, model, remote, locked] = await Promise.all([startTarget(kind), startModelServer(), startMcpHttpServer(), startMcpHttpServer({ oauth: true })])
    const configured = await api(target, "PATCH", "/config", { directory, body: { ...fakeProviderConfig(model.baseURL) } })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await Promise.all([target?.stop(), model?.close(), remote?.close(), locked?.close()])
    rmSync(directory, { recursive: true, force: true })
  })

  test("/mcp tells connected, needs_auth (a 401), failed with the reason, and disabled; headers reach the server", async () => {
    const added = await api(target, "POST", "/mcp", { directory, body: { name: "my.remote", config: { type: "remote", url: remote.url, headers: { Authorization: "Bearer from-config" } } } })
    expect(added.status, added.text).toBe(200)
    expect(added.json["my.remote"]).toEqual({ status: "connected" })
    expect(remote.authorizations).toContain("Bearer from-config")

    await api(target, "POST", "/mcp", { directory, body: { name: "locked", config: { type: "remote", url: locked.url } } })
    await api(target, "POST", "/mcp", { directory, body: { name: "off", config: { type: "remote", url: remote.url, enabled: false } } })
    await api(target, "POST", "/mcp", { directory, body: { name: "nowhere", config: { type: "remote", url: "http://127.0.0.1:9/mcp", timeout: 5_000 } } })
    const statuses = (await api(target, "GET", "/mcp", { directory })).json
    expect(statuses.locked).toEqual({ status: "needs_auth" })
    expect(statuses.off).toEqual({ status: "disabled" })
    expect(statuses.nowhere.status).toBe("failed")
    expect(statuses.nowhere.error).toBeTruthy()
    expect(Object.keys(statuses)).toEqual([...Object.keys(statuses)].sort())
  })

  test("disconnect switches a server off, connect brings it back; an unknown name is 404", async () => {
    expect((await api(target, "POST", "/mcp/my.remote/disconnect", { directory })).json).toBe(true)
    expect((await api(target, "GET", "/mcp", { directory })).json["my.remote"]).toEqual({ status: "disabled" })
    expect((await api(target, "POST", "/mcp/my.remote/connect", { directory })).json).toBe(true)
    expect((await api(target, "GET", "/mcp", { directory })).json["my.remote"]).toEqual({ status: "connected" })
    expectNamedError(await api(target, "POST", "/mcp/nope/connect", { directory }), 404, "NotFoundError")
    // a server that needs no sign-in has nothing to authorize: an empty URL, as upstream answers
    const start = await api(target, "POST", "/mcp/my.remote/auth", { directory })
    expect(start.json, start.text).toMatchObject({ authorizationUrl: "" })
  })

  test("a remote server's tools are offered as <server>_<tool> and the model's call is answered in the tool part", async () => {
    model.script({ toolCalls: [{ name: "my_remote_echo", input: { text: "hi" } }] }, "done")
    const { session, answer } = await prompt(target, directory, "echo something")
    expect((await answer).status).toBe(200)
    const step = model.requests.filter((request) => request.kind === "step").at(-2)!
    const names = step.body.tools.map((tool: any) => tool.function.name)
    expect(names).toEqual(expect.arrayContaining(["my_remote_echo", "my_remote_say_hello", "my_remote_crash", "read"]))
    expect(names.some((name: string) => name.startsWith("locked_") || name.startsWith("off_"))).toBe(false)
    const echo = step.body.tools.find((tool: any) => tool.function.name === "my_remote_echo")
    expect(echo.function.parameters.properties.text.type).toBe("string")

    const messages = (await api(target, "GET", `/session/${session.id}/message`, { directory })).json
    const part = toolPart(messages, "my_remote_echo")
    expect(part.state).toMatchObject({ status: "completed", input: { text: "hi" }, output: "remote echo: hi", title: "", metadata: { truncated: false } })
    // The model's next step sees the server's answer.
    expect(JSON.stringify(model.requests.filter((request) => request.kind === "step").at(-1)!.body.messages)).toContain("remote echo: hi")
  })

  test("a tool's image reaches the model after the results, as upstream sends it; text resources join the output, other binaries are named", async () => {
    model.script({ toolCalls: [{ name: "my_remote_picture", input: {} }] }, "seen")
    const { session, answer } = await prompt(target, directory, "show me")
    expect((await answer).status).toBe(200)
    const messages = (await api(target, "GET", `/session/${session.id}/message`, { directory })).json
    const part = toolPart(messages, "my_remote_picture")
    expect(part.state.output).toBe("a picture\n\nthe caption\n\n[Binary MCP resource omitted: test://archive.zip (application/zip, 4 B) is not a supported attachment type]")
    expect(part.state.attachments).toEqual([
      { id: expect.stringMatching(/^prt/), sessionID: session.id, messageID: part.messageID, type: "file", mime: "image/png", url: `data:image/png;base64,${TINY_PNG}` },
    ])
    // An OpenAI-compatible provider takes images only from the user: they follow the tool's result.
    const next = model.requests.filter((request) => request.kind === "step").at(-1)!.body.messages
    const result = next.findIndex((message: any) => message.role === "tool" && message.content.includes("a picture"))
    expect(result).toBeGreaterThan(0)
    expect(next[result + 1]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Attached media from tool result:" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${TINY_PNG}` } },
      ],
    })
  })

  test("a provider that takes media in tool results (Anthropic) gets the tool's image inside the result", async () => {
    const elsewhere = uniqueDirectory("mcp-anthropic")
    mkdirSync(elsewhere, { recursive: true })
    try {
      await api(target, "PATCH", "/config", { directory: elsewhere, body: fakeProviderConfig(model.baseURL, "@ai-sdk/anthropic") })
      await api(target, "POST", "/mcp", { directory: elsewhere, body: { name: "pics", config: { type: "remote", url: remote.url } } })
      model.script({ toolCalls: [{ name: "pics_picture", input: {} }] }, "seen")
      const { answer } = await prompt(target, elsewhere, "show me")
      expect((await answer).status).toBe(200)
      const messages = model.requests.filter((request) => request.kind === "step").at(-1)!.body.messages
      const results = messages.flatMap((message: any) => (Array.isArray(message.content) ? message.content : [])).filter((block: any) => block.type === "tool_result")
      expect(results.at(-1).content).toEqual([
        { type: "text", text: expect.stringContaining("a picture") },
        { type: "image", source: { type: "base64", media_type: "image/png", data: TINY_PNG } },
      ])
      expect(JSON.stringify(messages)).not.toContain("Attached media from tool result:")
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  test("OAuth: a server that answers 401 is authorized through /mcp/:name/auth, then connected with its token", async () => {
    const started = await api(target, "POST", "/mcp/locked/auth", { directory })
    expect(started.status, started.text).toBe(200)
    const url = new URL(started.json.authorizationUrl)
    expect(url.origin + url.pathname).toBe(new URL(locked.url).origin + "/authorize")
    expect(url.searchParams.get("client_id")).toBe("test-client")
    expect(url.searchParams.get("code_challenge_method")).toBe("S256")
    expect(url.searchParams.get("state")).toBe(started.json.oauthState)

    const finished = await api(target, "POST", "/mcp/locked/auth/callback", { directory, body: { code: OAUTH_TEST_CODE } })
    expect(finished.json, finished.text).toEqual({ status: "connected" })
    expect((await api(target, "GET", "/mcp", { directory })).json.locked).toEqual({ status: "connected" })
    expect(locked.authorizations.at(-1)).toBe("Bearer access-1")
  })

  test("OAuth: an access token the server no longer takes is refreshed with the refresh token, and the call goes through", async () => {
    locked.expireAccessTokens()
    model.script({ toolCalls: [{ name: "locked_echo", input: { text: "still in" } }] }, "done")
    const { session, answer } = await prompt(target, directory, "echo with a fresh token")
    expect((await answer).status).toBe(200)
    const messages = (await api(target, "GET", `/session/${session.id}/message`, { directory })).json
    expect(toolPart(messages, "locked_echo").state).toMatchObject({ status: "completed", output: "remote echo: still in" })
    expect(locked.grants).toEqual(["authorization_code", "refresh_token"])
    expect(locked.authorizations.at(-1)).toBe("Bearer access-2")
    expect((await api(target, "GET", "/mcp", { directory })).json.locked).toEqual({ status: "connected" })
  })

  test("OAuth: DELETE /mcp/:name/auth forgets the tokens, and the server needs authorization again", async () => {
    expect((await api(target, "DELETE", "/mcp/locked/auth", { directory })).json).toEqual({ success: true })
    await api(target, "POST", "/mcp/locked/connect", { directory })
    expect((await api(target, "GET", "/mcp", { directory })).json.locked).toEqual({ status: "needs_auth" })
    expectNamedError(await api(target, "POST", "/mcp/nope/auth", { directory }), 404, "NotFoundError")
  })

  test.skipIf(kind !== "worker")("the edge cannot open the user's browser: authenticate answers McpBrowserAuthUnavailableError", async () => {
    expectNamedError(await api(target, "POST", "/mcp/locked/auth/authenticate", { directory }), 400, "McpBrowserAuthUnavailableError")
    expectNamedError(await api(target, "POST", "/mcp/nope/auth/authenticate", { directory }), 404, "NotFoundError")
  })

  test("a server that speaks only the older SSE transport is reached by falling back to it", async () => {
    const legacy = await startMcpSseServer("legacy")
    try {
      const added = await api(target, "POST", "/mcp", { directory, body: { name: "legacy", config: { type: "remote", url: legacy.url } } })
      expect(added.json.legacy, added.text).toEqual({ status: "connected" })
      model.script({ toolCalls: [{ name: "legacy_echo", input: { text: "old" } }] }, "done")
      const { session, answer } = await prompt(target, directory, "echo over sse")
      expect((await answer).status).toBe(200)
      const messages = (await api(target, "GET", `/session/${session.id}/message`, { directory })).json
      expect(toolPart(messages, "legacy_echo").state).toMatchObject({ status: "completed", output: "legacy echo: old" })
      await api(target, "POST", "/mcp/legacy/disconnect", { directory })
    } finally {
      await legacy.close()
    }
  })

  test("a server's prompts are commands `<server>:<prompt>`; running one sends the prompt the server fills", async () => {
    const commands = (await api(target, "GET", "/command", { directory })).json as any[]
    expect(commands.find((command) => command.name === "my_remote:greet")).toEqual({ name: "my_remote:greet", description: "A greeting", source: "mcp", template: "", hints: ["$1"] })
    model.script("hello Ada")
    const session = (await api(target, "POST", "/session", { directory, body: {} })).json
    const ran = await api(target, "POST", `/session/${session.id}/command`, { directory, body: { command: "my_remote:greet", arguments: "Ada" } })
    expect(ran.status, ran.text).toBe(200)
    const step = model.requests.filter((request) => request.kind === "step").at(-1)!
    expect(JSON.stringify(step.body.messages.at(-1))).toContain("Say hello to Ada")
  })

  test("/experimental/resource lists the connected servers' resources by <server>:<uri>", async () => {
    const resources = (await api(target, "GET", "/experimental/resource", { directory })).json
    expect(resources["my.remote:test://notes"]).toEqual({ name: "notes", uri: "test://notes", description: "Some notes", mimeType: "text/plain", client: "my.remote" })
  })
})

describe.skipIf(!targetKinds().includes("local"))("local (stdio) MCP servers [local]", () => {
  let target: Target
  let model: ModelServer
  const directory = uniqueDirectory("mcp-stdio")
  const state = mkdtempSync(join(tmpdir(), "oc-mcp-pids-"))
  const pidFile = join(state, "pids")
  // The computer's opener, as on a machine without a display: it notes the URL and fails.
  const opened = join(state, "opened")
  mkdirSync(join(state, "bin"))
  writeFileSync(join(state, "bin", "xdg-open"), `#!/bin/sh\necho "$1" > "${opened}"\nexit 3\n`, { mode: 0o755 })

  beforeAll(async () => {
    mkdirSync(directory, { recursive: true })
    ;[target, model] = await Promise.all([startTarget("local", { env: { PATH: `${join(state, "bin")}:${process.env.PATH}` } }), startModelServer()])
    const configured = await api(target, "PATCH", "/config", {
      directory,
      body: { ...fakeProviderConfig(model.baseURL), permission: { "loc_*": "ask" } },
    })
    expect(configured.status, configured.text).toBe(200)
  })
  afterAll(async () => {
    await Promise.all([target?.stop(), model?.close()])
    rmSync(directory, { recursive: true, force: true })
    rmSync(state, { recursive: true, force: true })
  })

  test("a stdio server starts in the directory; a command that fails is `failed` with what it printed", async () => {
    const added = await api(target, "POST", "/mcp", {
      directory,
      body: { name: "loc", config: { type: "local", command: [TSX, STDIO_SERVER], environment: { MCP_PID_FILE: pidFile, MCP_LABEL: "loc" } } },
    })
    expect(added.json.loc, added.text).toEqual({ status: "connected" })
    expect(pids(pidFile)).toHaveLength(1)
    await api(target, "POST", "/mcp", { directory, body: { name: "broken", config: { type: "local", command: ["sh", "-c", "echo boom >&2; exit 1"] } } })
    const broken = (await api(target, "GET", "/mcp", { directory })).json.broken
    expect(broken.status).toBe("failed")
    expect(broken.error).toContain("Connection closed")
    expect(broken.error).toContain("boom")
    await api(target, "POST", "/mcp/broken/disconnect", { directory })
  })

  test("the model calls the server's tool: asked for permission (`loc_echo` on `*`), answered, the result in the tool part", async () => {
    model.script({ toolCalls: [{ name: "loc_echo", input: { text: "hi" } }] }, "done")
    const { session, answer } = await prompt(target, directory, "echo locally")
    const asked = await until(async () => {
      const pending = (await api(target, "GET", "/permission", { directory })).json as any[]
      return pending.find((request) => request.sessionID === session.id)
    }, { what: "the permission request", timeoutMs: 60_000 })
    expect(asked).toMatchObject({ permission: "loc_echo", patterns: ["*"], always: ["*"], metadata: {} })
    expect((await api(target, "POST", `/permission/${asked.id}/reply`, { directory, body: { reply: "once" } })).status).toBe(200)
    expect((await answer).status).toBe(200)
    const messages = (await api(target, "GET", `/session/${session.id}/message`, { directory })).json
    expect(toolPart(messages, "loc_echo").state).toMatchObject({ status: "completed", output: "loc echo: hi", title: "" })
    expect(asked.tool).toEqual({ messageID: toolPart(messages, "loc_echo").messageID, callID: toolPart(messages, "loc_echo").callID })
  })

  test("a server that adds a tool is announced with mcp.tools.changed, and the next turn offers the new tool", async () => {
    const stream = await connect(`${target.url}/event?directory=${encodeURIComponent(directory)}`, { headers: target.authHeaders })
    try {
      model.script({ toolCalls: [{ name: "loc_grow", input: {} }] }, "grown")
      const { session, answer } = await prompt(target, directory, "grow")
      const asked = await until(async () => ((await api(target, "GET", "/permission", { directory })).json as any[]).find((request) => request.sessionID === session.id), { timeoutMs: 60_000 })
      await api(target, "POST", `/permission/${asked.id}/reply`, { directory, body: { reply: "once" } })
      expect((await answer).status).toBe(200)
      const changed = await stream.waitForEvent("mcp.tools.changed")
      expect(changed.payload!.properties).toEqual({ server: "loc" })
    } finally {
      stream.close()
    }
    model.script("nothing to do")
    expect((await (await prompt(target, directory, "list")).answer).status).toBe(200)
    const names = model.requests.filter((request) => request.kind === "step").at(-1)!.body.tools.map((tool: any) => tool.function.name)
    expect(names).toContain("loc_extra")
  })

  test("a server that crashes is started again and answers; disconnect ends its process", async () => {
    const [first] = pids(pidFile)
    process.kill(first!, "SIGKILL")
    await until(() => (pids(pidFile).length === 2 ? true : undefined), { what: "the server started again", timeoutMs: 60_000 })
    await until(async () => ((await api(target, "GET", "/mcp", { directory })).json.loc?.status === "connected" ? true : undefined), { what: "connected again" })
    model.script({ toolCalls: [{ name: "loc_echo", input: { text: "again" } }] }, "done")
    const { session, answer } = await prompt(target, directory, "echo again")
    const asked = await until(async () => ((await api(target, "GET", "/permission", { directory })).json as any[]).find((request) => request.sessionID === session.id), { timeoutMs: 60_000 })
    await api(target, "POST", `/permission/${asked.id}/reply`, { directory, body: { reply: "once" } })
    expect((await answer).status).toBe(200)
    const messages = (await api(target, "GET", `/session/${session.id}/message`, { directory })).json
    expect(toolPart(messages, "loc_echo").state).toMatchObject({ status: "completed", output: "loc echo: again" })

    const second = pids(pidFile)[1]!
    expect(alive(second)).toBe(true)
    await api(target, "POST", "/mcp/loc/disconnect", { directory })
    await until(() => (alive(second) ? undefined : true), { what: "the server's process to end" })
    expect((await api(target, "GET", "/mcp", { directory })).json.loc).toEqual({ status: "disabled" })
  })

  test("authenticate opens the authorization URL with the computer's opener; when none opens, mcp.browser.open.failed carries it, and the browser's return connects the server", async () => {
    const locked = await startMcpHttpServer({ oauth: true })
    const redirectUri = `http://127.0.0.1:${await freePort()}/mcp/oauth/callback`
    await api(target, "POST", "/mcp", { directory, body: { name: "locked", config: { type: "remote", url: locked.url, oauth: { redirectUri } } } })
    const stream = await connect(`${target.url}/event?directory=${encodeURIComponent(directory)}`, { headers: target.authHeaders })
    try {
      const answer = api(target, "POST", "/mcp/locked/auth/authenticate", { directory })
      const failed = (await stream.waitForEvent("mcp.browser.open.failed")).payload!.properties
      expect(failed.mcpName).toBe("locked")
      expect(readFileSync(opened, "utf8").trim()).toBe(failed.url)
      // The user's browser: the authorization server sends it back to the redirect URI with the code.
      const back = (await fetch(failed.url, { redirect: "manual" })).headers.get("location")!
      expect(back.startsWith(`${redirectUri}?`)).toBe(true)
      const page = await fetch(back)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain("Authorization successful")
      const answered = await answer
      expect(answered.json, answered.text).toEqual({ status: "connected" })
      expect(locked.authorizations.at(-1)).toBe("Bearer access-1")
      expectNamedError(await api(target, "POST", "/mcp/loc/auth/authenticate", { directory }), 400, "McpUnsupportedOAuthError")
    } finally {
      stream.close()
      await api(target, "POST", "/mcp/locked/disconnect", { directory })
      await locked.close()
    }
  })

  test("stopping the agent stops its servers: no process outlives it", async () => {
    expect((await api(target, "POST", "/mcp/loc/connect", { directory })).json).toBe(true)
    const third = pids(pidFile).at(-1)!
    expect(pids(pidFile)).toHaveLength(3)
    expect(alive(third)).toBe(true)
    await target.stop()
    await until(() => (alive(third) ? undefined : true), { what: "the server's process to end with the agent" })
  })
})
