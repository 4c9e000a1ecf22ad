import { execFile } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, test } from "vitest"
import WebSocket from "ws"
import { api, expectNamedError, until, useTarget } from "../support/http.ts"
import { connect } from "../support/sse.ts"
import { startModelServer } from "../support/model-server.ts"
import { agentPair, pairClient, pairMachine, TunnelProcess } from "../support/paired-edge.ts"
import { targetKinds, type Target } from "../support/targets.ts"

const run = promisify(execFile)

/** A terminal client through the edge that tracks the cursor it stands at: the replay start plus every char since. */
class Terminal {
  text = ""
  cursor = 0
  closed: { code: number; reason: string } | undefined

  static open(edge: Target, token: string, ptyID: string, directory: string, cursor: number): Promise<Terminal> {
    const url = `${edge.url.replace(/^http/, "ws")}/pty/${ptyID}/connect?cursor=${cursor}&directory=${encodeURIComponent(directory)}`
    const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } })
    const terminal = new Terminal()
    terminal.cursor = cursor
    terminal.socket = socket
    socket.on("message", (data, isBinary) => {
      if (isBinary) return
      const chunk = (data as Buffer).toString("utf8")
      terminal.text += chunk
      terminal.cursor += chunk.length
    })
    socket.on("close", (code, reason) => (terminal.closed = { code, reason: reason.toString() }))
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(terminal))
      socket.once("unexpected-response", (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)))
      socket.once("error", reject)
    })
  }

  socket!: WebSocket

  /** From the machine's own server, bypassing the edge: the reference copy of the output. */
  static openDirect(server: Target, ptyID: string): Promise<Terminal> {
    const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/pty/${ptyID}/connect?cursor=0`)
    const terminal = new Terminal()
    terminal.socket = socket
    socket.on("message", (data, isBinary) => {
      if (!isBinary) terminal.text += (data as Buffer).toString("utf8")
    })
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(terminal))
      socket.once("error", reject)
    })
  }

  waitFor(needle: string) {
    return until(() => (this.text.includes(needle) ? true : undefined), { what: `terminal output ${needle}`, timeoutMs: 30_000 })
  }
}

describe.skipIf(!targetKinds().includes("worker") || !targetKinds().includes("local"))("the tunnel: a machine behind the edge", () => {
  const edge = useTarget("worker", { pairedOnly: true, keepAllOutput: true, logLevel: "info" })
  // Request lines in its log show what the edge asked of it (the relayed model calls).
  const machineServer = useTarget("local", { extraArgs: ["--log-level", "info"], keepAllOutput: true })
  /** Terminal tickets minted in these tests: none may show in a log. */
  const tickets: string[] = []
  const state = mkdtempSync(join(tmpdir(), "oc-agent-"))
  const project = mkdtempSync(join(tmpdir(), "oc-tunnel-project-"))
  writeFileSync(join(project, "notes.md"), "# Notes\nthe tunnel works\n")
  let token = ""
  let tunnel: TunnelProcess | undefined
  afterAll(() => tunnel?.kill9())

  const asClient = (method: string, path: string, body?: unknown) =>
    api(edge(), method, path, {
      noAuth: true,
      directory: project,
      headers: { Authorization: `Bearer ${token}` },
      ...(body !== undefined ? { body } : {}),
    })

  test("no machine connected: machine routes answer 503 MachineUnavailable at once", async () => {
    token = await pairMachine(edge(), state)
    expectNamedError(await asClient("GET", "/file/content?path=notes.md"), 503, "MachineUnavailable")
    expectNamedError(await asClient("GET", "/pty"), 503, "MachineUnavailable")
  })

  test("files and search of the machine through the edge, confined to the directory", async () => {
    tunnel = new TunnelProcess(state, machineServer().url)
    await tunnel.start()
    // The tunnel's hello told the edge which directory the machine serves: a browser that pairs opens the app there.
    const browser = await pairClient(edge(), (await agentPair(edge(), state)).code)
    expect(browser.app).toBe(`/${Buffer.from(machineServer().directory).toString("base64url")}/session`)
    const read = await asClient("GET", "/file/content?path=notes.md")
    expect(read.json).toEqual({ type: "text", content: "# Notes\nthe tunnel works\n" })
    const found = await asClient("GET", "/find?pattern=tunnel%20works")
    expect(found.json.map((hit: { path: { text: string } }) => hit.path.text)).toEqual(["notes.md"])
    expectNamedError(await asClient("GET", "/file/content?path=../../etc/passwd"), 403, "PathOutsideDirectoryError")
    expectNamedError(await asClient("GET", "/file/content?path=missing.md"), 404, "NotFoundError")
  })

  test("the edge names a directory's project as the machine does (git root commit), and remembers it", async () => {
    const repo = realpathSync(mkdtempSync(join(tmpdir(), "oc-tunnel-repo-")))
    const git = (...args: string[]) => run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo })
    await git("init", "-q")
    await git("commit", "-q", "--allow-empty", "-m", "root")
    const root = (await git("rev-list", "--max-parents=0", "HEAD")).stdout.trim()
    const inRepo = (method: string, path: string, body?: unknown) =>
      api(edge(), method, path, { noAuth: true, directory: repo, headers: { Authorization: `Bearer ${token}` }, ...(body ? { body } : {}) })

    const current = await inRepo("GET", "/project/current")
    expect(current.json).toMatchObject({ id: root, worktree: repo, vcs: "git" })
    expect((await inRepo("POST", "/session", {})).json.projectID).toBe(root)
    expect(((await inRepo("GET", "/project")).json as { id: string }[]).map((project) => project.id)).toContain(root)
    // outside git: the global project, as upstream, and not remembered: a first commit later is seen
    expect((await asClient("GET", "/project/current")).json).toMatchObject({ id: "global" })
    const later = realpathSync(mkdtempSync(join(tmpdir(), "oc-tunnel-later-")))
    const inLater = () => api(edge(), "GET", "/project/current", { noAuth: true, directory: later, headers: { Authorization: `Bearer ${token}` } })
    expect((await inLater()).json.id).toBe("global")
    const gitLater = (...args: string[]) => run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: later })
    await gitLater("init", "-q")
    await gitLater("commit", "-q", "--allow-empty", "-m", "first")
    expect((await inLater()).json.id).toBe((await gitLater("rev-list", "--max-parents=0", "HEAD")).stdout.trim())

    // remembered: the project stays while the machine is away
    tunnel!.kill9()
    await until(async () => ((await asClient("GET", "/file/content?path=notes.md")).status === 503 ? true : undefined))
    expect((await inRepo("GET", "/project/current")).json.id).toBe(root)
    await tunnel!.start()
  })

  test("built-in tools run on the machine through the edge, confined to the directory", async () => {
    const read = await asClient("POST", "/tool/read/execute", { filePath: "notes.md" })
    expect(read.status, read.text).toBe(200)
    expect(read.json.output).toContain("00002| the tunnel works")
    const bash = await asClient("POST", "/tool/bash/execute", { command: "cat notes.md; exit 4" })
    expect(bash.json.output).toContain("the tunnel works")
    expect(bash.json.metadata.exit).toBe(4)
    expectNamedError(await asClient("POST", "/tool/write/execute", { filePath: "../escaped.txt", content: "x" }), 403, "PathOutsideDirectoryError")
    expectNamedError(await asClient("POST", "/tool/read/execute", { filePath: 42 }), 400, "BadRequest")
    expectNamedError(await asClient("POST", "/tool/teleport/execute", {}), 404, "NotFoundError")
    expect((await asClient("POST", "/tool/list/execute", {})).json.output).toContain("notes.md")
    expect((await asClient("POST", "/tool/glob/execute", { pattern: "*.md" })).json.output).toContain("notes.md")
    expect((await asClient("POST", "/tool/grep/execute", { pattern: "tunnel w.rks" })).json.output).toContain("notes.md:2")
    const edited = await asClient("POST", "/tool/edit/execute", { filePath: "notes.md", oldString: "works", newString: "still works" })
    expect(edited.status, edited.text).toBe(200)
    expect(readFileSync(join(project, "notes.md"), "utf8")).toBe("# Notes\nthe tunnel still works\n")
    await asClient("POST", "/tool/edit/execute", { filePath: "notes.md", oldString: "still works", newString: "works" })
    expectNamedError(await asClient("POST", "/tool/read/execute", { filePath: "../../etc/passwd" }), 403, "PathOutsideDirectoryError")
  })

  test("an agent turn at the edge: the model on the user's loopback is called from the machine, bash runs there, the reply streams", async () => {
    const model = await startModelServer()
    try {
      const configured = await asClient("PATCH", "/config", {
        provider: { homelab: { npm: "@ai-sdk/openai-compatible", name: "Home lab", options: { baseURL: model.baseURL }, models: { "local-1": { name: "Local 1" } } } },
      })
      expect(configured.status, configured.text).toBe(200)
      const session = (await asClient("POST", "/session", {})).json
      const stream = await connect(`${edge().url}/event?directory=${encodeURIComponent(project)}`, { headers: { Authorization: `Bearer ${token}` } })
      model.script({ toolCalls: [{ name: "bash", input: { command: "head -1 notes.md && hostname" } }] }, { text: ["Read ", "it."] })
      const reply = await asClient("POST", `/session/${session.id}/message`, { model: { providerID: "homelab", modelID: "local-1" }, parts: [{ type: "text", text: "read the notes" }] })
      expect(reply.status, reply.text).toBe(200)
      expect(reply.json.info).toMatchObject({ role: "assistant", providerID: "homelab", finish: "stop" })
      expect(reply.json.parts.find((part: { type: string }) => part.type === "text").text).toBe("Read it.")
      const messages = (await asClient("GET", `/session/${session.id}/message`)).json
      const tool = messages[1].parts.find((part: { type: string }) => part.type === "tool")
      expect(tool.state.status, JSON.stringify(tool.state)).toBe("completed")
      expect(tool.state.output).toContain("# Notes")
      expect(tool.state.output).toContain(hostname())
      await stream.waitForEvent("message.part.delta", (p) => p.sessionID === session.id && p.delta === "it.")
      await stream.waitForEvent("session.idle", (p) => p.sessionID === session.id)
      stream.close()
      // the provider is on loopback: both model calls went out from the machine, through the tunnel
      expect(model.requests.filter((request) => request.kind === "step")).toHaveLength(2)
      expect(machineServer().output().match(/method=POST path=\/machine\/relay status=200/g)?.length ?? 0).toBeGreaterThanOrEqual(2)
    } finally {
      await model.close()
    }
  })

  test("a machine that drops mid-tool fails that tool; the turn goes on and the edge keeps serving", async () => {
    const model = await startModelServer()
    try {
      await asClient("PATCH", "/config", {
        provider: { remote: { npm: "@ai-sdk/openai-compatible", options: { baseURL: model.baseURL }, models: { m: {} } } },
      })
      const session = (await asClient("POST", "/session", {})).json
      const stream = await connect(`${edge().url}/event?directory=${encodeURIComponent(project)}`, { headers: { Authorization: `Bearer ${token}` } })
      model.script({ toolCalls: [{ name: "bash", input: { command: "sleep 20" } }] })
      const reply = asClient("POST", `/session/${session.id}/message`, { model: { providerID: "remote", modelID: "m" }, parts: [{ type: "text", text: "wait" }] })
      await stream.waitForEvent("message.part.updated", (p) => p.sessionID === session.id && p.part.type === "tool" && p.part.state.status === "running")
      tunnel!.kill9()
      // the model is on this machine's loopback too: with the machine gone the edge calls it itself (wrangler dev can)
      model.script({ text: "the machine went away" })
      const answered = await reply
      expect(answered.status, answered.text).toBe(200)
      expect(answered.json.parts.find((part: { type: string }) => part.type === "text").text).toBe("the machine went away")
      const messages = (await asClient("GET", `/session/${session.id}/message`)).json
      const tool = messages[1].parts.find((part: { type: string }) => part.type === "tool")
      expect(tool.state.status).toBe("error")
      expect(tool.state.error).toMatch(/Tunnel|machine/i)
      stream.close()
    } finally {
      await model.close()
      await tunnel!.start()
    }
  })

  test("the edge's permission rules gate machine tools run for a session: once, reject (v1 route), always, deny", async () => {
    expect((await asClient("PATCH", "/config", { permission: { bash: { "*": "allow", "touch *": "ask", "rm *": "deny" } } })).status).toBe(200)
    const sessionID = (await asClient("POST", "/session", {})).json.id as string
    const events = await connect(`${edge().url}/session/${sessionID}/event`, { headers: { Authorization: `Bearer ${token}` } })
    const bash = (command: string) => asClient("POST", `/tool/bash/execute?sessionID=${sessionID}`, { command })
    const nextRequest = () =>
      until(async () => {
        const listed = (await asClient("GET", "/permission")).json as { id: string; sessionID: string; patterns: string[] }[]
        return listed.find((pending) => pending.sessionID === sessionID)
      })
    try {
      const once = bash("touch approved.txt; echo done")
      const request = await nextRequest()
      const asked = await events.waitForEvent("permission.asked", (p) => p.id === request.id)
      // Only `touch …` asks; the request shows every command of the line, as upstream, and "always" would approve each one's family.
      expect(asked.payload!.properties).toMatchObject({ sessionID, permission: "bash", patterns: ["touch approved.txt", "echo done"], always: ["touch *", "echo *"] })
      expect(existsSync(join(project, "approved.txt"))).toBe(false)
      expect((await asClient("POST", `/permission/${request.id}/reply`, { reply: "once" })).status).toBe(200)
      const result = await once
      expect({ status: result.status, output: result.json.output }, result.text).toEqual({ status: 200, output: "done\n" })
      expect(existsSync(join(project, "approved.txt"))).toBe(true)
      await events.waitForEvent("permission.replied", (p) => p.requestID === request.id && p.reply === "once")

      const refused = bash("touch refused.txt")
      const toRefuse = await nextRequest()
      expect((await asClient("POST", `/session/${sessionID}/permissions/${toRefuse.id}`, { response: "reject" })).json).toBe(true)
      expectNamedError(await refused, 409, "PermissionRejectedError")
      expect(existsSync(join(project, "refused.txt"))).toBe(false)

      const always = bash("touch always.txt")
      await asClient("POST", `/permission/${(await nextRequest()).id}/reply`, { reply: "always" })
      expect((await always).status).toBe(200)
      expect((await bash("touch always.txt")).status).toBe(200)
      expectNamedError(await bash("rm always.txt"), 403, "PermissionDeniedError")
      expect(existsSync(join(project, "always.txt"))).toBe(true)
      expect((await asClient("GET", "/permission")).json).toEqual([])
    } finally {
      events.close()
    }
  })

  test("the machine's config files show in the edge's config routes; with the machine away, the stored layer alone", async () => {
    const file = join(project, "opencode.json")
    writeFileSync(file, `{\n  // the machine's project config\n  "username": "from-the-machine",\n  "share": "manual",\n}\n`)
    mkdirSync(join(project, ".opencode", "command"), { recursive: true })
    writeFileSync(join(project, ".opencode", "command", "greet.md"), "---\ndescription: Greets\n---\nSay hi to $1\n")
    try {
      // The stored layer (the permission rules PATCHed above) stays on top of the machine's files.
      const config = (await asClient("GET", "/config")).json
      expect(config).toMatchObject({ username: "from-the-machine", share: "manual", permission: { bash: { "rm *": "deny" } } })
      const commands = (await asClient("GET", "/command")).json as { name: string }[]
      expect(commands.find((command) => command.name === "greet")).toMatchObject({ description: "Greets", template: "Say hi to $1" })
      const patched = await asClient("PATCH", "/config", { share: "disabled" })
      expect(patched.json).toMatchObject({ username: "from-the-machine", share: "disabled" })

      // A broken file on the machine: the edge names it as the agent does, and sessions keep working.
      writeFileSync(file, `{ "share": }`)
      const broken = await asClient("GET", "/config")
      expectNamedError(broken, 400, "ConfigJsonError")
      expect(broken.json.data).toMatchObject({ path: file, message: expect.stringContaining("ValueExpected at 1:12") })
      expect((await asClient("GET", "/session")).status).toBe(200)

      // The route the edge asks the machine through the tunnel is the agent's own, not part of the edge's API.
      expectNamedError(await asClient("GET", "/machine/config/sources"), 404, "NotFoundError")

      tunnel!.kill9()
      await until(async () => ((await asClient("GET", "/file/content?path=notes.md")).status === 503 ? true : undefined))
      const away = await asClient("GET", "/config")
      expect(away.status, away.text).toBe(200)
      expect(away.json.username).toBeUndefined()
      expect(away.json).toMatchObject({ share: "disabled", permission: { bash: { "rm *": "deny" } } })
      expect(((await asClient("GET", "/command")).json as { name: string }[]).map((command) => command.name)).not.toContain("greet")
      await tunnel!.start()
    } finally {
      rmSync(file, { force: true })
      rmSync(join(project, ".opencode"), { recursive: true, force: true })
    }
  })

  test("100 concurrent file reads through one tunnel", async () => {
    const reads = await Promise.all(Array.from({ length: 100 }, () => asClient("GET", "/file/content?path=notes.md")))
    expect(reads.map((read) => read.status)).toEqual(Array(100).fill(200))
    expect(new Set(reads.map((read) => read.json.content))).toEqual(new Set(["# Notes\nthe tunnel works\n"]))
  })

  test("a terminal on the machine through the edge: type, read; another tenant cannot see it", async () => {
    const pty = (await asClient("POST", "/pty", { command: "bash", args: ["--noprofile", "--norc"] })).json
    expect(pty).toMatchObject({ status: "running", cwd: project })
    const terminal = await Terminal.open(edge(), token, pty.id, project, -1)
    terminal.socket.send("echo edge-$((20+22))\r")
    await terminal.waitFor("edge-42")
    expect((await asClient("GET", "/pty")).json.map((p: { id: string }) => p.id)).toContain(pty.id)

    const otherToken = await pairMachine(edge(), mkdtempSync(join(tmpdir(), "oc-agent-other-")))
    const other = (path: string) =>
      api(edge(), "GET", path, { noAuth: true, directory: project, headers: { Authorization: `Bearer ${otherToken}` } })
    expectNamedError(await other(`/pty/${pty.id}`), 503, "MachineUnavailable")
    expectNamedError(await other("/file/content?path=notes.md"), 503, "MachineUnavailable")
    // A browser that cannot send headers: a single-use ticket, minted with the token, connects alone.
    const minted = await api(edge(), "POST", `/pty/${pty.id}/connect-token`, {
      noAuth: true,
      directory: project,
      headers: { Authorization: `Bearer ${token}`, "x-opencode-ticket": "1" },
    })
    expect(minted.status, minted.text).toBe(200)
    tickets.push(minted.json.ticket)
    const ticketURL = `${edge().url.replace(/^http/, "ws")}/pty/${pty.id}/connect?cursor=-1&directory=${encodeURIComponent(project)}&ticket=${minted.json.ticket}`
    const browser = new WebSocket(ticketURL)
    let browserText = ""
    browser.on("message", (data, isBinary) => void (isBinary || (browserText += data.toString())))
    await new Promise((resolve, reject) => browser.once("open", resolve).once("error", reject))
    browser.send("echo via-ticket\r")
    await until(() => (browserText.includes("via-ticket") ? true : undefined), { what: "output on the ticketed socket" })
    browser.close()
    const reused = new WebSocket(ticketURL)
    const status = await new Promise<number>((resolve) => {
      reused.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0))
      reused.once("open", () => resolve(101))
    })
    expect(status).toBe(401)

    terminal.socket.close()
    await asClient("DELETE", `/pty/${pty.id}`)
  })

  test("a reloaded web app's terminal reconnect through the edge: its cookie and URI-encoded directory header reach the machine", async () => {
    const pty = (await asClient("POST", "/pty", { command: "bash", args: ["--noprofile", "--norc"] })).json
    // The request shape the official app sends after a reload (logged from Chromium): no Authorization header,
    // the pairing cookie of a same-origin page, the directory URI-encoded in a header (and in the query for the ticket).
    const asReloadedApp = (method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; directory?: string } = {}) =>
      api(edge(), method, path, {
        noAuth: true,
        ...options,
        headers: {
          Cookie: `opencode_edge_token=${token}`,
          "Sec-Fetch-Site": "same-origin",
          Origin: edge().url,
          "x-opencode-directory": encodeURIComponent(project),
          ...options.headers,
        },
      })
    const resized = await asReloadedApp("PUT", `/pty/${pty.id}`, { body: { size: { cols: 100, rows: 30 } } })
    expect(resized.status, resized.text).toBe(200)
    const minted = await asReloadedApp("POST", `/pty/${pty.id}/connect-token`, { directory: project, headers: { "x-opencode-ticket": "1" } })
    expect(minted.status, minted.text).toBe(200)
    tickets.push(minted.json.ticket)
    const terminal = new WebSocket(`${edge().url.replace(/^http/, "ws")}/pty/${pty.id}/connect?cursor=-1&directory=${encodeURIComponent(project)}&ticket=${minted.json.ticket}`)
    let shown = ""
    terminal.on("message", (data, isBinary) => void (isBinary || (shown += data.toString())))
    await new Promise((resolve, reject) => terminal.once("open", resolve).once("error", reject))
    terminal.send("echo reconnected-$((40+2))\r")
    await until(() => (shown.includes("reconnected-42") ? true : undefined), { what: "output on the reconnected terminal" })
    terminal.close()
    await asClient("DELETE", `/pty/${pty.id}`)
  })

  test("the newest connection of a machine wins, and the replaced agent does not fight back", async () => {
    const second = new TunnelProcess(state, machineServer().url)
    await second.start()
    await until(() => (tunnel!.output.includes("tunnel replaced") ? true : undefined), { what: "the first agent to be replaced" })
    expect((await asClient("GET", "/file/content?path=notes.md")).status).toBe(200)
    tunnel!.kill9()
    tunnel = second
    // The replaced agent stays away: the newer connection keeps serving.
    expect((await asClient("GET", "/file/content?path=notes.md")).status).toBe(200)
  })

  test("what happens on the machine (a terminal starts, exits, goes) shows on the edge's event streams", async () => {
    const stream = await connect(`${edge().url}/event?directory=${encodeURIComponent(project)}`, {
      headers: { Authorization: `Bearer ${token}` },
    })
    const pty = (await asClient("POST", "/pty", { command: "bash", args: ["--noprofile", "--norc", "-c", "exit 3"] })).json
    await stream.waitForEvent("pty.created", (p) => p.info.id === pty.id)
    const exited = await stream.waitForEvent("pty.exited", (p) => p.id === pty.id)
    expect(exited.payload!.properties.exitCode).toBe(3)
    await asClient("DELETE", `/pty/${pty.id}`)
    await stream.waitForEvent("pty.deleted", (p) => p.id === pty.id)
    stream.close()
  })

  test("no client token, machine secret or terminal ticket appears in the edge's, the machine's or the tunnel's log", () => {
    const machineSecret = JSON.parse(readFileSync(join(state, "machine.json"), "utf8")).secret as string
    const secrets = [token, machineSecret, ...tickets]
    expect(secrets.every((secret) => secret.length >= 16)).toBe(true)
    const logs = { edge: edge().output(), machine: machineServer().output(), tunnel: tunnel!.output }
    // the logs are there to search: requests were logged
    expect(logs.edge).toMatch(/\/pty/)
    expect(logs.machine).toMatch(/request/)
    for (const [name, text] of Object.entries(logs)) {
      for (const secret of secrets) expect(text.includes(secret), `${name}'s log holds a secret`).toBe(false)
    }
  })

  test("the tunnel dies mid-stream and comes back: resuming by cursor sees every byte exactly once", async () => {
    const script = "for i in $(seq 1 3000); do echo line-$i; sleep 0.002; done; echo done-counting; sleep 120"
    const pty = (await asClient("POST", "/pty", { command: "bash", args: ["--noprofile", "--norc", "-c", script] })).json
    const first = await Terminal.open(edge(), token, pty.id, project, 0)
    await first.waitFor("line-300\r\n")
    tunnel!.kill9()
    await until(() => first.closed, { what: "the relayed socket to close when the tunnel dies" })
    expect(first.closed!.code).toBe(1012)
    expectNamedError(await asClient("GET", "/pty"), 503, "MachineUnavailable")

    await tunnel!.start()
    const resumed = await Terminal.open(edge(), token, pty.id, project, first.cursor)
    await resumed.waitFor("done-counting")

    // The whole output, read straight from the machine's own server, is exactly what the client pieced together.
    const direct = await Terminal.openDirect(machineServer(), pty.id)
    await direct.waitFor("done-counting")
    expect(first.text + resumed.text).toBe(direct.text)
    for (let i = 1; i <= 3000; i++) expect(direct.text.split(`line-${i}\r\n`).length - 1, `line-${i}`).toBe(1)
    resumed.socket.close()
    direct.socket.close()
  }, 90_000) // restarts the agent's tunnel process: slow on a loaded machine
})

describe.skipIf(!targetKinds().includes("worker") || !targetKinds().includes("local"))("tunnel faults and limits", () => {
  const SILENCE_MS = 6_000
  const edge = useTarget("worker", {
    pairedOnly: true,
    vars: {
      OPENCODE_TUNNEL_TIMEOUT_MS: "1500",
      OPENCODE_TUNNEL_MAX_CONCURRENT: "2",
      OPENCODE_TUNNEL_MAX_FRAME_BYTES: "4096",
      OPENCODE_TUNNEL_SILENCE_MS: String(SILENCE_MS),
    },
  })
  const machineServer = useTarget("local")
  const state = mkdtempSync(join(tmpdir(), "oc-agent-faults-"))
  const project = mkdtempSync(join(tmpdir(), "oc-tunnel-faults-"))
  writeFileSync(join(project, "a.txt"), "a\n")
  let token = ""
  let tunnel: TunnelProcess | undefined
  afterAll(() => {
    tunnel?.thaw()
    tunnel?.kill9()
  })
  const read = () =>
    api(edge(), "GET", "/file/content?path=a.txt", { noAuth: true, directory: project, headers: { Authorization: `Bearer ${token}` } })

  test("limits and a silent machine: 413 frame, 429 in flight, 504 timeout, 502 dropped, then 503", async () => {
    token = await pairMachine(edge(), state)
    tunnel = new TunnelProcess(state, machineServer().url, { OPENCODE_TUNNEL_PING_MS: "1000" })
    await tunnel.start()
    expect((await read()).status).toBe(200)

    const big = await api(edge(), "POST", "/pty", {
      noAuth: true,
      directory: project,
      headers: { Authorization: `Bearer ${token}` },
      body: { command: "true", env: { PADDING: "x".repeat(8192) } },
    })
    expectNamedError(big, 413, "TunnelFrameTooLarge")

    // A frozen machine holds its socket open and answers nothing.
    tunnel.freeze()
    // Three at once against a limit of two: one is refused, the others time out. (Bursts, not one slow read
    // after another: under load a lone read can take a free slot and stall, and then never meets a full tunnel.)
    await until(
      async () => {
        let refused = false
        for (const response of await Promise.all([read(), read(), read()])) {
          if (response.status === 429) {
            expectNamedError(response, 429, "TunnelBusy")
            refused = true
          } else expectNamedError(response, 504, "TunnelTimeout")
        }
        return refused ? true : undefined
      },
      { what: "429 past the requests in flight" },
    )

    // Killed while frozen, the machine never answers the request in flight: it fails at once, it does not hang.
    const inFlight = read()
    await new Promise((resolve) => setTimeout(resolve, 200))
    tunnel.kill9()
    expectNamedError(await inFlight, 502, "TunnelDropped")
    expectNamedError(await read(), 503, "MachineUnavailable")
  })

  test("a half-open tunnel is detected by its missing heartbeats, and the agent reconnects", async () => {
    await tunnel!.start()
    expect((await read()).status).toBe(200)
    tunnel!.freeze()
    const frozenAt = Date.now()
    const unavailable = await until(
      async () => {
        const response = await read()
        return response.status === 503 ? response : undefined
      },
      { what: "503 once the frozen machine's heartbeats stop", timeoutMs: SILENCE_MS * 4, intervalMs: 500 },
    )
    expectNamedError(unavailable, 503, "MachineUnavailable")
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(SILENCE_MS - 2_000)
    tunnel!.thaw()
    await until(async () => ((await read()).status === 200 ? true : undefined), {
      what: "the agent to notice and reconnect",
      timeoutMs: 30_000,
      intervalMs: 500,
    })
  })

  test("a bash command may outlast the tunnel's timeout: the edge waits for the command's own", async () => {
    const bash = await api(edge(), "POST", "/tool/bash/execute", {
      noAuth: true,
      directory: project,
      headers: { Authorization: `Bearer ${token}` },
      body: { command: "sleep 2.5; echo outlasted", timeout: 10_000 },
    })
    expect({ status: bash.status, output: bash.json?.output }, bash.text).toEqual({ status: 200, output: "outlasted\n" })
  })
})
