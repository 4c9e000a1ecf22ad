import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import WebSocket from "ws"
import { api, expectNamedError, until, useTarget } from "../support/http.ts"
import { connect } from "../support/sse.ts"
import { basicAuthHeader, type Target } from "../support/targets.ts"

/** A WebSocket client of one PTY: the text it received, its control frames and how it closed. */
class Terminal {
  output = ""
  controls: { cursor: number }[] = []
  closed: { code: number; reason: string } | undefined
  constructor(readonly socket: WebSocket) {
    socket.on("message", (data, isBinary) => {
      const bytes = data as Buffer
      if (isBinary && bytes[0] === 0) this.controls.push(JSON.parse(bytes.subarray(1).toString("utf8")))
      else this.output += bytes.toString("utf8")
    })
    socket.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }))
  }

  static open(target: Target, ptyID: string, directory: string, query: Record<string, string> = {}, headers = target.authHeaders) {
    const url = new URL(`${target.url.replace(/^http/, "ws")}/pty/${ptyID}/connect`)
    url.searchParams.set("directory", directory)
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
    const socket = new WebSocket(url, { headers })
    return new Promise<Terminal>((resolve, reject) => {
      const terminal = new Terminal(socket)
      socket.once("open", () => resolve(terminal))
      socket.once("unexpected-response", (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)))
      socket.once("error", reject)
    })
  }

  type(line: string) {
    this.socket.send(`${line}\r`)
  }

  waitFor(needle: string | RegExp) {
    return until(() => (typeof needle === "string" ? this.output.includes(needle) : needle.test(this.output)) || undefined, {
      what: `terminal output ${needle}`,
    })
  }

  waitControl() {
    return until(() => this.controls[0], { what: "the control frame" })
  }

  waitClosed() {
    return until(() => this.closed, { what: "the socket to close" })
  }
}

const bash = { command: "bash", args: ["--noprofile", "--norc"], env: { PS1: "$ " } }

function projectDirectory() {
  return mkdtempSync(join(tmpdir(), "oc-pty-"))
}

describe("PTY on the local agent", () => {
  const target = useTarget("local")

  async function createPty(directory: string, body: object = bash) {
    const created = await api(target(), "POST", "/pty", { directory, body })
    expect(created.status, created.text).toBe(200)
    return created.json as { id: string; pid: number; cwd: string; status: string; title: string }
  }

  test("type a command over the WebSocket and read its output; two clients see the same", async () => {
    const directory = projectDirectory()
    const pty = await createPty(directory)
    expect(pty).toMatchObject({ cwd: directory, status: "running", command: "bash" })
    expect((await api(target(), "GET", "/pty", { directory })).json.map((p: { id: string }) => p.id)).toEqual([pty.id])
    expect((await api(target(), "GET", "/pty", { directory: projectDirectory() })).json).toEqual([])
    const first = await Terminal.open(target(), pty.id, directory)
    const second = await Terminal.open(target(), pty.id, directory)
    first.type("echo sum=$((40+2)); pwd")
    await first.waitFor("sum=42")
    await second.waitFor("sum=42")
    await first.waitFor(directory)
    second.type("echo from-second")
    await first.waitFor(/from-second\r?\n/)
    expect((await first.waitControl()).cursor).toBeGreaterThanOrEqual(0)
    first.socket.close()
    second.socket.close()
    await api(target(), "DELETE", `/pty/${pty.id}`, { directory })
  })

  test("resize, rename and the events of a terminal's life", async () => {
    const directory = projectDirectory()
    const events = await connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`)
    const pty = await createPty(directory)
    await events.waitForEvent("pty.created", (p) => p.info.id === pty.id)

    const updated = await api(target(), "PUT", `/pty/${pty.id}`, { directory, body: { title: "build", size: { rows: 33, cols: 101 } } })
    expect(updated.json).toMatchObject({ id: pty.id, title: "build" })
    await events.waitForEvent("pty.updated", (p) => p.info.title === "build")
    const terminal = await Terminal.open(target(), pty.id, directory)
    terminal.type("stty size")
    await terminal.waitFor("33 101")

    terminal.type("exit 7")
    const exited = await events.waitForEvent("pty.exited", (p) => p.id === pty.id)
    expect(exited.payload!.properties.exitCode).toBe(7)
    expect((await terminal.waitClosed()).code).toBe(1000)
    expect((await api(target(), "GET", `/pty/${pty.id}`, { directory })).json).toMatchObject({ status: "exited", exitCode: 7 })

    expect((await api(target(), "DELETE", `/pty/${pty.id}`, { directory })).json).toBe(true)
    await events.waitForEvent("pty.deleted", (p) => p.id === pty.id)
    expectNamedError(await api(target(), "GET", `/pty/${pty.id}`, { directory }), 404, "NotFoundError")
    events.close()
  })

  test("replay by cursor: from 0, from the end, live only", async () => {
    const directory = projectDirectory()
    const pty = await createPty(directory)
    const writer = await Terminal.open(target(), pty.id, directory)
    writer.type("for i in 1 2 3; do echo line-$i; done")
    await writer.waitFor("line-3\r\n")

    const replayed = await Terminal.open(target(), pty.id, directory, { cursor: "0" })
    const { cursor: end } = await replayed.waitControl()
    expect(replayed.output).toContain("line-1\r\nline-2\r\nline-3")
    expect(end).toBe(replayed.output.length)

    const fromEnd = await Terminal.open(target(), pty.id, directory, { cursor: String(end) })
    const live = await Terminal.open(target(), pty.id, directory, { cursor: "-1" })
    await fromEnd.waitControl()
    await live.waitControl()
    expect(fromEnd.output).toBe("")
    expect(live.output).toBe("")
    writer.type("echo after")
    await fromEnd.waitFor("after")
    await live.waitFor("after")
    // a resumed client sees exactly what the one that stayed saw after the cursor
    await until(() => (replayed.output.length === end + fromEnd.output.length ? true : undefined))
    expect(replayed.output.slice(end)).toBe(fromEnd.output)
    for (const terminal of [writer, replayed, fromEnd, live]) terminal.socket.close()
    await api(target(), "DELETE", `/pty/${pty.id}`, { directory })
  })

  test("unknown terminals and bad input", async () => {
    const directory = projectDirectory()
    expectNamedError(await api(target(), "GET", "/pty/pty_unknown", { directory }), 404, "NotFoundError")
    await expect(Terminal.open(target(), "pty_unknown", directory)).rejects.toThrow("HTTP 404")
    expectNamedError(await api(target(), "POST", "/pty", { directory, body: { cwd: join(directory, "missing") } }), 400, "BadRequest")
    expectNamedError(await api(target(), "POST", "/pty", { directory, body: { args: "no" } }), 400, "BadRequest")
    const shells = await api(target(), "GET", "/pty/shells", { directory })
    expect(shells.json.some((shell: { path: string }) => shell.path.endsWith("sh"))).toBe(true)
  })
})

describe("PTY connect tickets with auth on", () => {
  const password = "pty-secret"
  const target = useTarget("local", { password })

  test("a ticket lets a browser connect once without credentials", async () => {
    const directory = projectDirectory()
    const pty = (await api(target(), "POST", "/pty", { directory, body: bash })).json
    expectNamedError(await api(target(), "POST", `/pty/${pty.id}/connect-token`, { directory }), 403, "ForbiddenError")
    const issued = await api(target(), "POST", `/pty/${pty.id}/connect-token`, { directory, headers: { "x-opencode-ticket": "1" } })
    expect(issued.json).toMatchObject({ ticket: expect.any(String), expires_in: expect.any(Number) })

    await expect(Terminal.open(target(), pty.id, directory, {}, {})).rejects.toThrow("HTTP 401")
    const terminal = await Terminal.open(target(), pty.id, directory, { ticket: issued.json.ticket }, {})
    terminal.type("echo ticketed")
    await terminal.waitFor("ticketed")
    await expect(Terminal.open(target(), pty.id, directory, { ticket: issued.json.ticket }, {})).rejects.toThrow("HTTP 401")
    const elsewhere = await api(target(), "POST", `/pty/${pty.id}/connect-token`, { directory, headers: { "x-opencode-ticket": "1" } })
    await expect(
      Terminal.open(target(), pty.id, projectDirectory(), { ticket: elsewhere.json.ticket }, {}),
    ).rejects.toThrow("HTTP 401")
    const withBasic = await Terminal.open(target(), pty.id, directory, {}, { Authorization: basicAuthHeader("opencode", password) })
    withBasic.type("echo basic")
    await withBasic.waitFor("basic")
    terminal.socket.close()
    withBasic.socket.close()
  })
})

describe("PTY processes end with the server", () => {
  const target = useTarget("local")

  test("stopping the server leaves no orphan processes", async () => {
    const directory = projectDirectory()
    const pty = (await api(target(), "POST", "/pty", { directory, body: bash })).json
    const terminal = await Terminal.open(target(), pty.id, directory)
    terminal.type("sleep 300 & echo bg=$!")
    const background = Number((await until(() => terminal.output.match(/bg=(\d+)/)?.[1])))
    const direct = (await api(target(), "POST", "/pty", { directory, body: { command: "sleep", args: ["300"] } })).json
    const pids = [pty.pid, background, direct.pid]
    for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow()
    await target().stop()
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    await until(() => (pids.some(alive) ? undefined : true), { what: `the PTY processes ${pids} to end` })
  })
})

describe("PTY on the edge without a machine", () => {
  const target = useTarget("worker")

  test("answers 503 MachineUnavailable", async () => {
    expectNamedError(await api(target(), "GET", "/pty"), 503, "MachineUnavailable")
    expectNamedError(await api(target(), "POST", "/pty", { body: {} }), 503, "MachineUnavailable")
    expectNamedError(await api(target(), "GET", "/pty/pty_x/connect"), 503, "MachineUnavailable")
  })
})
