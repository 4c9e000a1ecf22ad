import { describe, expect, test } from "vitest"
import { api, expectNamedError, sdk, useTarget } from "../support/http.ts"
import { connect } from "../support/sse.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

const RULE = { permission: expect.any(String), pattern: expect.any(String), action: expect.stringMatching(/^(allow|deny|ask)$/) }

describe.each(targetKinds())("agents, commands, formatters, MCP, log, instance, todo, diff, share [%s]", (kind) => {
  const target = useTarget(kind)

  test("GET /agent lists the built-in build, plan and general agents in the SDK's shape", async () => {
    const response = await sdk(target(), uniqueDirectory("agents")).app.agents()
    expect(response.response.status).toBe(200)
    const agents = response.data as unknown as Array<Record<string, any>>
    const byName = new Map(agents.map((agent) => [agent.name, agent]))
    expect(byName.get("build")).toMatchObject({ mode: "primary", native: true, builtIn: true, options: {} })
    expect(byName.get("plan")).toMatchObject({ mode: "primary", native: true, builtIn: true })
    expect(byName.get("general")).toMatchObject({ mode: "subagent", native: true, builtIn: true })
    for (const agent of agents) {
      expect(typeof agent.description).toBe("string")
      expect(Array.isArray(agent.permission)).toBe(true)
      for (const rule of agent.permission) expect(rule).toEqual(RULE)
    }
    // plan denies edits
    expect(byName.get("plan")!.permission).toContainEqual({ permission: "edit", pattern: "*", action: "deny" })
  })

  test("agents and commands from the stored config", async () => {
    const patch = await api(target(), "PATCH", "/config", {
      body: {
        permission: { bash: { "git push *": "ask" } },
        agent: {
          reviewer: { description: "Reviews code", mode: "subagent", model: "anthropic/claude-x", temperature: 0.2, permission: { edit: "deny" } },
          general: { disable: true },
          plan: { color: "#FF5733" },
        },
        command: {
          greet: { template: "Say hello to $1 about $ARGUMENTS", description: "Greets", agent: "build", model: "anthropic/claude-x" },
        },
      },
    })
    expect(patch.status, patch.text).toBe(200)

    const agents = (await api(target(), "GET", "/agent")).json as Array<Record<string, any>>
    const names = agents.map((agent) => agent.name)
    expect(names).toEqual(expect.arrayContaining(["build", "plan", "reviewer"]))
    expect(names).not.toContain("general")
    expect(agents.find((agent) => agent.name === "reviewer")).toMatchObject({
      description: "Reviews code",
      mode: "subagent",
      native: false,
      builtIn: false,
      model: { providerID: "anthropic", modelID: "claude-x" },
      temperature: 0.2,
      options: {},
    })
    // The config's own rules follow each agent's built-in ones; a config agent's rules come last.
    expect(agents.find((agent) => agent.name === "reviewer")!.permission.slice(-2)).toEqual([
      { permission: "bash", pattern: "git push *", action: "ask" },
      { permission: "edit", pattern: "*", action: "deny" },
    ])
    expect(agents.find((agent) => agent.name === "build")!.permission.at(-1)).toEqual({ permission: "bash", pattern: "git push *", action: "ask" })
    expect(agents.find((agent) => agent.name === "plan")).toMatchObject({ color: "#FF5733", native: true })

    // /api/agent: the same agents in the v2 shape, as upstream migrates a config agent
    const v2 = (await api(target(), "GET", "/api/agent")).json.data as Array<Record<string, any>>
    expect(v2.map((agent) => agent.id)).toEqual(names)
    const reviewer = v2.find((agent) => agent.id === "reviewer")!
    expect(reviewer).toEqual({
      id: "reviewer",
      description: "Reviews code",
      mode: "subagent",
      hidden: false,
      model: { id: "claude-x", providerID: "anthropic" },
      request: { headers: {}, body: { temperature: 0.2 } },
      permissions: agents.find((agent) => agent.name === "reviewer")!.permission.map((rule: any) => ({
        action: rule.permission,
        resource: rule.pattern,
        effect: rule.action,
      })),
    })
    expect(reviewer.permissions.at(-1)).toEqual({ action: "edit", resource: "*", effect: "deny" })
    expect(v2.find((agent) => agent.id === "plan")).toMatchObject({ color: "#FF5733", mode: "primary", hidden: false })

    const commands = await sdk(target()).command.list()
    expect(commands.response.status).toBe(200)
    // upstream's built-ins come first; the skills come last (the built-in one where there is a machine)
    expect(commands.data!.map((command) => command.name)).toEqual(["init", "review", "greet", ...(kind === "local" ? ["customize-opencode"] : [])])
    expect(commands.data!.slice(2, 3)).toEqual([
      {
        name: "greet",
        template: "Say hello to $1 about $ARGUMENTS",
        description: "Greets",
        agent: "build",
        model: "anthropic/claude-x",
        source: "command",
        hints: ["$1", "$ARGUMENTS"],
      },
    ])
    // /api/command: the same commands in the v2 shape (CommandV2Info)
    expect((await api(target(), "GET", "/api/command")).json.data.slice(2)).toEqual([
      {
        name: "greet",
        template: "Say hello to $1 about $ARGUMENTS",
        description: "Greets",
        agent: "build",
        model: { id: "claude-x", providerID: "anthropic" },
      },
    ])
  })

  test("GET /formatter is an empty list", async () => {
    const response = await sdk(target()).formatter.status()
    expect(response.response.status).toBe(200)
    expect(response.data).toEqual([])
  })

  test("MCP: register, truthful status, connect/disconnect, 400 and 404", async () => {
    const client = sdk(target())
    const initial = await client.mcp.status()
    expect(initial.response.status).toBe(200)
    expect(initial.data).toEqual({})

    // A command that is not there fails (locally: it cannot start; on the edge without a machine: no machine).
    const added = await client.mcp.add({
      body: { name: "files", config: { type: "local", command: ["/nonexistent/some-mcp-server"], environment: { A: "1" } } },
    })
    expect(added.response.status, JSON.stringify(added.error)).toBe(200)
    expect(added.data).toEqual({ files: { status: "failed", error: expect.stringMatching(kind === "local" ? /ENOENT|does not exist/ : /No machine is connected/) } })

    const remote = await api(target(), "POST", "/mcp", {
      body: { name: "docs", config: { type: "remote", url: "http://127.0.0.1:9/mcp", enabled: false } },
    })
    expect(remote.status, remote.text).toBe(200)
    expect(remote.json).toEqual({
      docs: { status: "disabled" },
      files: { status: "failed", error: expect.any(String) },
    })

    // connect switches it on and tries it now: nothing listens there, so it is failed with the reason
    const connect = await client.mcp.connect({ path: { name: "docs" } })
    expect(connect.response.status).toBe(200)
    expect(connect.data).toBe(true)
    let status = (await client.mcp.status()).data as Record<string, { status: string; error?: string }>
    expect(status.docs).toEqual({ status: "failed", error: expect.any(String) })

    const disconnect = await client.mcp.disconnect({ path: { name: "files" } })
    expect(disconnect.data).toBe(true)
    status = (await client.mcp.status()).data as Record<string, { status: string }>
    expect(status.files).toEqual({ status: "disabled" })

    expectNamedError(await api(target(), "POST", "/mcp/nope/connect"), 404, "NotFoundError")
    expectNamedError(await api(target(), "POST", "/mcp/nope/disconnect"), 404, "NotFoundError")
    for (const body of [
      {},
      { name: "x" },
      { name: "x", config: { type: "local" } },
      { name: "x", config: { type: "local", command: [] } },
      { name: "x", config: { type: "remote", url: "not a url" } },
      { name: "x", config: { type: "stdio", command: ["a"] } },
      { name: "a/b", config: { type: "local", command: ["a"] } },
    ]) {
      expectNamedError(await api(target(), "POST", "/mcp", { body }), 400, "BadRequest")
    }
  })

  test("POST /log answers true and rejects bad input", async () => {
    const logged = await sdk(target()).app.log({ body: { service: "test", level: "info", message: "hello", extra: { a: 1 } } })
    expect(logged.response.status).toBe(200)
    expect(logged.data).toBe(true)
    for (const level of ["debug", "warn", "error"]) {
      const response = await api(target(), "POST", "/log", { body: { service: "test", level, message: "m" } })
      expect(response.status, response.text).toBe(200)
      expect(response.json).toBe(true)
    }
    expectNamedError(await api(target(), "POST", "/log", { body: { service: "test", level: "loud", message: "m" } }), 400, "BadRequest")
    expectNamedError(await api(target(), "POST", "/log", { body: { level: "info" } }), 400, "BadRequest")
  })

  test("POST /instance/dispose answers true and publishes server.instance.disposed", async () => {
    const directory = uniqueDirectory("dispose")
    const stream = await connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`, {
      headers: target().authHeaders,
    })
    try {
      const response = await sdk(target(), directory).instance.dispose()
      expect(response.response.status).toBe(200)
      expect(response.data).toBe(true)
      const frame = await stream.waitForEvent("server.instance.disposed")
      expect(frame.payload!.properties).toEqual({ directory })
    } finally {
      stream.close()
    }
  })

  test("session todo and diff: empty lists, 404 for unknown and deleted sessions", async () => {
    const client = sdk(target(), uniqueDirectory("todo"))
    const session = (await client.session.create({ body: {} })).data!
    const todo = await client.session.todo({ path: { id: session.id } })
    expect(todo.response.status).toBe(200)
    expect(todo.data).toEqual([])
    const diff = await client.session.diff({ path: { id: session.id } })
    expect(diff.response.status).toBe(200)
    expect(diff.data).toEqual([])

    const unknown = "ses_000000000000000000000000000"
    expectNamedError(await api(target(), "GET", `/session/${unknown}/todo`), 404, "NotFoundError")
    expectNamedError(await api(target(), "GET", `/session/${unknown}/diff`), 404, "NotFoundError")
    expectNamedError(await api(target(), "GET", `/session/not-a-session/todo`), 400, "BadRequest")
    expectNamedError(await api(target(), "GET", `/session/${session.id}/diff?messageID=bad`), 400, "BadRequest")

    // The todo list goes with its session (test/local/session-records.test.ts sees the record itself go).
    expect((await client.session.delete({ path: { id: session.id } })).data).toBe(true)
    expectNamedError(await api(target(), "GET", `/session/${session.id}/todo`), 404, "NotFoundError")
  })

  test("session share and unshare: 404 for unknown sessions (sharing itself: test/edge/share.test.ts)", async () => {
    const unknown = "ses_000000000000000000000000000"
    expectNamedError(await api(target(), "POST", `/session/${unknown}/share`), 404, "NotFoundError")
    expectNamedError(await api(target(), "DELETE", `/session/${unknown}/share`), 404, "NotFoundError")
  })

  test("every route is in /doc with upstream's operationId", async () => {
    const doc = (await api(target(), "GET", "/doc")).json
    const operations = new Map<string, string>()
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation?.operationId) operations.set(operation.operationId, `${method.toUpperCase()} ${path}`)
      }
    }
    expect(Object.fromEntries([
      "app.agents", "command.list", "formatter.status", "mcp.status", "mcp.add", "mcp.connect", "mcp.disconnect",
      "app.log", "instance.dispose", "session.todo", "session.diff", "session.share", "session.unshare",
    ].map((id) => [id, operations.get(id)]))).toEqual({
      "app.agents": "GET /agent",
      "command.list": "GET /command",
      "formatter.status": "GET /formatter",
      "mcp.status": "GET /mcp",
      "mcp.add": "POST /mcp",
      "mcp.connect": expect.stringMatching(/^POST \/mcp\/\{name\}\/connect$/),
      "mcp.disconnect": expect.stringMatching(/^POST \/mcp\/\{name\}\/disconnect$/),
      "app.log": "POST /log",
      "instance.dispose": "POST /instance/dispose",
      "session.todo": expect.stringMatching(/^GET \/session\/\{sessionID\}\/todo$/),
      "session.diff": expect.stringMatching(/^GET \/session\/\{sessionID\}\/diff$/),
      "session.share": expect.stringMatching(/^POST \/session\/\{sessionID\}\/share$/),
      "session.unshare": expect.stringMatching(/^DELETE \/session\/\{sessionID\}\/share$/),
    })
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(
      expect.arrayContaining(["Agent", "Command", "FormatterStatus", "MCPStatus", "Todo", "SnapshotFileDiff", "SharingNeedsPairingError"]),
    )
  })
})
