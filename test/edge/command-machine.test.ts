import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, until } from "../support/http.ts"
import { untilGroupGone } from "../support/processes.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { startPairedEdge, type PairedEdge } from "../support/paired-edge.ts"
import { targetKinds } from "../support/targets.ts"

/**
 * Commands and shell commands on the edge with a machine paired: the command file is the machine's, and its
 * !`cmd`, its @file and the shell command run there, through the tunnel.
 */
describe.skipIf(!targetKinds().includes("worker"))("commands and shell through the tunnel", () => {
  const project = realpathSync(mkdtempSync(join(tmpdir(), "oc-command-edge-")))
  let paired: PairedEdge
  let model: ModelServer

  beforeAll(async () => {
    writeFileSync(join(project, "facts.txt"), "the sky is green here\n")
    mkdirSync(join(project, ".opencode", "command"), { recursive: true })
    writeFileSync(join(project, ".opencode", "command", "check.md"), "---\ndescription: Checks\n---\nCheck @facts.txt with $ARGUMENTS on !`hostname -s >/dev/null && echo the-machine`.\n")
    execFileSync("git", ["init", "-q"], { cwd: project })
    execFileSync("git", ["add", "."], { cwd: project })
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "root"], { cwd: project })
    model = await startModelServer()
    paired = await startPairedEdge({ machine: { directory: project } })
    // The model server is on this machine's loopback: the edge reaches it through the machine.
    const configured = await asClient("PATCH", "/config", fakeProviderConfig(model.baseURL))
    expect(configured.status, configured.text).toBe(200)
  }, 240_000)

  afterAll(async () => {
    await paired?.stop()
    await model?.close()
    rmSync(project, { recursive: true, force: true })
  })

  const asClient = (method: string, path: string, body?: unknown) =>
    api(paired.edge, method, path, { noAuth: true, directory: project, headers: paired.clientHeaders, ...(body !== undefined ? { body } : {}) })

  test("a markdown command from the machine: its !`cmd` runs there and its @file is read there", async () => {
    const session = (await asClient("POST", "/session", {})).json
    model.script("Checked.")
    const reply = await asClient("POST", `/session/${session.id}/command`, { command: "check", arguments: "care" })
    expect(reply.status, reply.text).toBe(200)
    const [user] = (await asClient("GET", `/session/${session.id}/message`)).json as any[]
    expect(user.parts[0].text).toBe("Check @facts.txt with care on the-machine\n.")
    expect(user.parts[1]).toMatchObject({ type: "file", filename: "facts.txt", url: `file://${join(project, "facts.txt")}` })
    const request = model.requests.filter((r) => r.kind === "step").at(-1)!
    expect(JSON.stringify(request.body.messages.at(-1))).toContain("the sky is green here")
  })

  test("aborting the session reaches the machine through the tunnel: the command's process group is killed, the part completes with upstream's abort note", async () => {
    const session = (await asClient("POST", "/session", {})).json
    const marker = join(project, `group-${session.id}`)
    const command = `echo $$ > ${marker}; echo started; sleep 30; echo never`
    const running = asClient("POST", `/session/${session.id}/shell`, { agent: "build", command })
    const group = await until(() => (existsSync(marker) && Number(readFileSync(marker, "utf8")) > 0 ? Number(readFileSync(marker, "utf8")) : undefined))
    expect((await asClient("POST", `/session/${session.id}/abort`)).status).toBe(200)
    const reply = await running
    expect(reply.status, reply.text).toBe(200)
    const output = "started\n\n\n<metadata>\nUser aborted the command\n</metadata>"
    expect(reply.json.parts[0].state).toMatchObject({ status: "completed", output, title: "", metadata: { output } })
    await untilGroupGone(group)
    rmSync(marker, { force: true })
  })

  test("shell runs on the machine through the tunnel; with the tunnel down it is 503 and nothing is stored", async () => {
    const session = (await asClient("POST", "/session", {})).json
    const reply = await asClient("POST", `/session/${session.id}/shell`, { agent: "build", command: "cat facts.txt; pwd" })
    expect(reply.status, reply.text).toBe(200)
    const output = `the sky is green here\n${project}\n`
    expect(reply.json.parts[0]).toMatchObject({ tool: "bash", state: { status: "completed", output, metadata: { output } } })

    paired.tunnel.kill9()
    await until(async () => ((await asClient("GET", "/file/content?path=facts.txt")).status === 503 ? true : undefined))
    const before = (await asClient("GET", `/session/${session.id}/message`)).json
    expectNamedError(await asClient("POST", `/session/${session.id}/shell`, { agent: "build", command: "echo hi" }), 503, "MachineUnavailable")
    expect((await asClient("GET", `/session/${session.id}/message`)).json).toEqual(before)
    await paired.tunnel.start()
  })
})
