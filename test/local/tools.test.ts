import { mkdirSync, mkdtempSync, realpathSync } from "node:fs"
import { mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { createLocalMachine } from "../../local-agent/machine/index.ts"
import { globToRegExp } from "../../local-agent/machine/tools.ts"
import { api, expectNamedError, until, useTarget } from "../support/http.ts"

/**
 * The built-in tools on the local agent, on a real temporary directory: each tool's result, confinement
 * of write and edit (`..`, absolute paths elsewhere, symlinks out: refused and nothing written), bash's
 * timeout killing the process group, 400 on invalid arguments and 404 for an unknown tool.
 */

const base = realpathSync(mkdtempSync(join(tmpdir(), "oc-tools-")))
const project = join(base, "project")
const outside = join(base, "outside")
mkdirSync(project)
mkdirSync(outside)

afterAll(() => rm(base, { recursive: true, force: true }))

async function put(path: string, content: string) {
  await mkdir(join(path, ".."), { recursive: true })
  await writeFile(path, content)
}

const exists = (path: string) => stat(path).then(() => true, () => false)

describe("local agent: built-in tools", () => {
  beforeAll(async () => {
    await put(join(project, "src/app.ts"), 'export const greeting = "hello"\nconsole.log(greeting)\n')
    await put(join(project, "src/util/strings.ts"), "export function shout(s: string) {\n  return s.toUpperCase()\n}\n")
    await put(join(project, "docs/guide.md"), "# Guide\n\nSay hello.\n")
    await put(join(project, ".gitignore"), "ignored/\n")
    await put(join(project, "ignored/hidden.ts"), "hello from ignored\n")
    await put(join(project, "long.txt"), Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\n") + "\n")
    await put(join(outside, "secret.txt"), "TOP-SECRET\n")
    await symlink(join(outside, "secret.txt"), join(project, "escape"))
    await symlink(outside, join(project, "escape-dir"))
    await symlink(join(outside, "missing.txt"), join(project, "dangling"))
  })
  const target = useTarget("local", { directory: project })
  const run = (id: string, args: unknown) => api(target(), "POST", `/tool/${id}/execute`, { body: args, directory: project })

  test("GET /tool lists every built-in tool with a JSON Schema of its arguments", async () => {
    const response = await api(target(), "GET", "/tool")
    expect(response.status).toBe(200)
    expect(response.json.map((tool: any) => tool.id)).toEqual(["read", "list", "glob", "grep", "write", "edit", "bash", "question", "todowrite", "todoread", "task", "webfetch", "skill"])
    const read = response.json.find((tool: any) => tool.id === "read")
    expect(read.parameters).toMatchObject({ type: "object", required: ["filePath"], properties: { filePath: { type: "string" }, offset: { type: "integer" } } })
    expect(typeof read.description).toBe("string")
  })

  test("read: numbered lines, offset and limit", async () => {
    const whole = await run("read", { filePath: "src/app.ts" })
    expect(whole.status, whole.text).toBe(200)
    expect(whole.json.title).toBe("src/app.ts")
    expect(whole.json.output).toContain('00001| export const greeting = "hello"')
    expect(whole.json.output).toContain("00002| console.log(greeting)")
    const page = await run("read", { filePath: "long.txt", offset: 10, limit: 3 })
    expect(page.json.output).toContain("00011| line 11")
    expect(page.json.output).toContain("00013| line 13")
    expect(page.json.output).not.toContain("line 14")
    expect(page.json.metadata.truncated).toBe(true)
    expectNamedError(await run("read", { filePath: "nope.txt" }), 404, "NotFoundError")
    expectNamedError(await run("read", { filePath: "escape" }), 403, "PathOutsideDirectoryError")
    expectNamedError(await run("read", { filePath: "../outside/secret.txt" }), 403, "PathOutsideDirectoryError")
  })

  test("list: the tree, .gitignore honoured", async () => {
    const response = await run("list", {})
    expect(response.status, response.text).toBe(200)
    expect(response.json.output).toContain("src/")
    expect(response.json.output).toContain("src/util/strings.ts")
    expect(response.json.output).not.toContain("hidden.ts")
    const sub = await run("list", { path: "src" })
    expect(sub.json.output).toContain("util/strings.ts")
    expect(sub.json.output).not.toContain("guide.md")
    expectNamedError(await run("list", { path: "escape-dir" }), 403, "PathOutsideDirectoryError")
  })

  test("glob: paths matching the pattern", async () => {
    const response = await run("glob", { pattern: "**/*.ts" })
    expect(response.status, response.text).toBe(200)
    expect(response.json.output.split("\n").sort()).toEqual(["src/app.ts", "src/util/strings.ts"])
    const named = await run("glob", { pattern: "*.md" })
    expect(named.json.output).toBe("docs/guide.md")
    const under = await run("glob", { pattern: "*.ts", path: "src/util" })
    expect(under.json.output).toBe("src/util/strings.ts")
    expect((await run("glob", { pattern: "*.nothing" })).json.output).toBe("No files found")
    expect(globToRegExp("src/{a,b}/[xy]?.ts").test("src/b/x1.ts")).toBe(true)
  })

  test("grep: hits as path:line, include filters, symlinks out never followed", async () => {
    const response = await run("grep", { pattern: "hello" })
    expect(response.status, response.text).toBe(200)
    const lines = response.json.output.split("\n").sort()
    expect(lines).toEqual(['src/app.ts:1: export const greeting = "hello"', "docs/guide.md:3: Say hello."].sort())
    const included = await run("grep", { pattern: "hello", include: "*.md" })
    expect(included.json.output).toBe("docs/guide.md:3: Say hello.")
    expect((await run("grep", { pattern: "TOP-SECRET" })).json.output).toBe("No matches found")
    expectNamedError(await run("grep", { pattern: "(" }), 400, "BadRequest")
  })

  test("write: creates the file and its parents; edit replaces once or everywhere", async () => {
    const written = await run("write", { filePath: "new/deep/file.txt", content: "alpha beta alpha\n" })
    expect(written.status, written.text).toBe(200)
    expect(written.json.metadata.created).toBe(true)
    expect(await readFile(join(project, "new/deep/file.txt"), "utf8")).toBe("alpha beta alpha\n")

    const ambiguous = await run("edit", { filePath: "new/deep/file.txt", oldString: "alpha", newString: "gamma" })
    expectNamedError(ambiguous, 400, "BadRequest")
    const once = await run("edit", { filePath: "new/deep/file.txt", oldString: "beta", newString: "delta" })
    expect(once.status, once.text).toBe(200)
    expect(await readFile(join(project, "new/deep/file.txt"), "utf8")).toBe("alpha delta alpha\n")
    const all = await run("edit", { filePath: "new/deep/file.txt", oldString: "alpha", newString: "omega", replaceAll: true })
    expect(all.json.metadata.replacements).toBe(2)
    expect(await readFile(join(project, "new/deep/file.txt"), "utf8")).toBe("omega delta omega\n")
    expectNamedError(await run("edit", { filePath: "new/deep/file.txt", oldString: "zzz", newString: "y" }), 400, "BadRequest")
  })

  test("edit records the whole file's unified diff and write whether the file existed, as upstream's tools do", async () => {
    const file = join(project, "notes/diffed.txt")
    const created = await run("write", { filePath: "notes/diffed.txt", content: "line one\nline two\nline three\n" })
    expect(created.json.metadata).toMatchObject({ filepath: file, exists: false, diagnostics: {} })
    const overwritten = await run("write", { filePath: "notes/diffed.txt", content: "line one\nline two\nline three\n" })
    expect(overwritten.json.metadata).toMatchObject({ filepath: file, exists: true })

    const edited = await run("edit", { filePath: "notes/diffed.txt", oldString: "line two", newString: "line 2\nline 2b" })
    expect(edited.status, edited.text).toBe(200)
    // byte for byte what upstream 1.18.33 records for this edit
    const patch = `Index: ${file}\n${"=".repeat(67)}\n--- ${file}\n+++ ${file}\n@@ -1,3 +1,4 @@\n line one\n-line two\n+line 2\n+line 2b\n line three\n`
    expect(edited.json.metadata).toMatchObject({ diff: patch, filediff: { file, patch, additions: 2, deletions: 1 }, diagnostics: {} })

    const unterminated = await run("edit", { filePath: "notes/diffed.txt", oldString: "line three\n", newString: "end" })
    expect(unterminated.json.metadata.filediff).toMatchObject({ additions: 1, deletions: 1 })
    expect(unterminated.json.metadata.diff).toContain("@@ -1,4 +1,4 @@\n line one\n line 2\n line 2b\n-line three\n+end\n\\ No newline at end of file\n")
  })

  test.each([
    ["../ out of the directory", "../outside/planted.txt", join(outside, "planted.txt")],
    ["an encoded ..", "%2e%2e/outside/planted2.txt", join(outside, "planted2.txt")],
    ["an absolute path elsewhere", join(outside, "planted3.txt"), join(outside, "planted3.txt")],
    ["through a directory symlink", "escape-dir/planted4.txt", join(outside, "planted4.txt")],
    ["a new directory under a directory symlink", "escape-dir/sub/planted5.txt", join(outside, "sub/planted5.txt")],
    ["a dangling symlink pointing outside", "dangling", join(outside, "missing.txt")],
  ])("write refuses %s and writes nothing", async (_case, filePath, landing) => {
    expectNamedError(await run("write", { filePath, content: "pwned\n" }), 403, "PathOutsideDirectoryError")
    expect(await exists(landing)).toBe(false)
  })

  test("write and edit refuse a file symlink out; the outside file is unchanged", async () => {
    expectNamedError(await run("write", { filePath: "escape", content: "pwned\n" }), 403, "PathOutsideDirectoryError")
    expectNamedError(await run("edit", { filePath: "escape", oldString: "TOP", newString: "pwned" }), 403, "PathOutsideDirectoryError")
    expectNamedError(await run("edit", { filePath: "../outside/secret.txt", oldString: "TOP", newString: "pwned" }), 403, "PathOutsideDirectoryError")
    expectNamedError(await run("edit", { filePath: join(outside, "secret.txt"), oldString: "TOP", newString: "pwned" }), 403, "PathOutsideDirectoryError")
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("TOP-SECRET\n")
    expect(await exists(join(outside, "sub"))).toBe(false)
  })

  test("bash: runs in the directory, combined output and exit code", async () => {
    const response = await run("bash", { command: "pwd; echo out; echo err >&2; exit 3", description: "mixed" })
    expect(response.status, response.text).toBe(200)
    expect(response.json.title).toBe("mixed")
    expect(response.json.output).toContain(project)
    expect(response.json.output).toContain("out")
    expect(response.json.output).toContain("err")
    expect(response.json.metadata).toMatchObject({ exit: 3, timedOut: false, truncated: false })
    // as upstream's: clients (the official TUI's bash block) render the output from the metadata
    expect(response.json.metadata.output).toBe(response.json.output)
  })

  test("bash: the output is capped", async () => {
    const response = await run("bash", { command: "head -c 200000 /dev/zero | tr '\\0' x" })
    expect(response.json.metadata.truncated).toBe(true)
    expect(response.json.output.length).toBeLessThan(70_000)
    expect(response.json.metadata.output).toBe(`...\n\n${response.json.output.slice(-30_000)}`)
  })

  test("bash: a timeout kills the whole process group", async () => {
    const marker = join(base, "survived")
    const started = Date.now()
    const response = await run("bash", { command: `(sleep 2; touch ${marker}) & sleep 30`, timeout: 500 })
    expect(response.status, response.text).toBe(200)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(response.json.metadata.timedOut).toBe(true)
    expect(response.json.output).toContain("timed out")
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(await exists(marker)).toBe(false)
  })

  test("invalid arguments: 400 with the issues", async () => {
    const missing = await run("read", {})
    expectNamedError(missing, 400, "BadRequest")
    expect(missing.json.data.issues[0].path).toEqual(["filePath"])
    const wrongType = await run("bash", { command: "true", timeout: "soon" })
    expectNamedError(wrongType, 400, "BadRequest")
    expect(wrongType.json.data.issues[0].path).toEqual(["timeout"])
    expectNamedError(await run("bash", { command: "true", timeout: 10_000_000 }), 400, "BadRequest")
    // no process takes a NUL in its arguments (found by the fuzzer: it answered 500)
    expectNamedError(await run("bash", { command: "echo a\u0000b" }), 400, "BadRequest")
    expectNamedError(await api(target(), "POST", "/tool/read/execute", { raw: "[1,2]", directory: project }), 400, "BadRequest")
  })

  test("an unknown tool: 404", async () => {
    expectNamedError(await run("teleport", {}), 404, "NotFoundError")
  })

  test("permission rules apply to tool calls for a session: deny, ask (once, reject, always), allow, the agent's own rules", async () => {
    const patched = await api(target(), "PATCH", "/config", {
      body: { permission: { bash: { "*": "allow", "echo gated*": "ask", "git *": "ask", "rm *": "deny" }, edit: { "*": "allow", "guarded/*": "ask" } } },
    })
    expect(patched.status, patched.text).toBe(200)
    const session = await api(target(), "POST", "/session", { directory: project, body: {} })
    const sessionID = session.json.id as string
    const inSession = (id: string, args: unknown) =>
      api(target(), "POST", `/tool/${id}/execute?sessionID=${sessionID}`, { body: args, directory: project })
    const nextRequest = () =>
      until(async () => {
        const listed = (await api(target(), "GET", "/permission", { directory: project })).json as any[]
        return listed.find((request) => request.sessionID === sessionID)
      })
    await put(join(project, "keep.txt"), "kept\n")

    const denied = await inSession("bash", { command: "rm keep.txt" })
    expectNamedError(denied, 403, "PermissionDeniedError")
    expect(denied.json.data).toMatchObject({ permission: "bash", pattern: "rm keep.txt" })
    // Each simple command of a line is judged: a denied one hidden behind another, or in a substitution, is denied.
    for (const command of ["true && rm keep.txt", "echo ok; X=1 rm keep.txt", "echo $(rm keep.txt)", "(rm *.txt)"]) {
      expectNamedError(await inSession("bash", { command }), 403, "PermissionDeniedError")
    }
    expect(await exists(join(project, "keep.txt"))).toBe(true)

    const once = inSession("bash", { command: "echo gated-once" })
    const asked = await nextRequest()
    // "always" would approve the command's family: its name (one word for echo) with any arguments.
    expect(asked).toMatchObject({ permission: "bash", patterns: ["echo gated-once"], always: ["echo *"], metadata: { tool: "bash", command: "echo gated-once" } })
    expect((await api(target(), "POST", `/permission/${asked.id}/reply`, { directory: project, body: { reply: "once" } })).json).toBe(true)
    expect((await once).json.output).toBe("gated-once\n")

    const rejected = inSession("bash", { command: "echo gated; touch rejected.txt" })
    const toReject = await nextRequest()
    // As upstream, the request shows every command of the line, the allowed one too.
    expect(toReject).toMatchObject({ patterns: ["echo gated", "touch rejected.txt"], always: ["echo *", "touch *"] })
    await api(target(), "POST", `/permission/${toReject.id}/reply`, { directory: project, body: { reply: "reject", message: "not now" } })
    const refusal = await rejected
    expectNamedError(refusal, 409, "PermissionRejectedError")
    expect(refusal.json.data.message).toBe("not now")
    expect(await exists(join(project, "rejected.txt"))).toBe(false)

    // "always" approves the command's family for the rest of the session: `git status -s` approves `git status *`.
    const always = inSession("bash", { command: "git status -s" })
    const toApprove = await nextRequest()
    expect(toApprove).toMatchObject({ patterns: ["git status -s"], always: ["git status *"] })
    await api(target(), "POST", `/permission/${toApprove.id}/reply`, { directory: project, body: { reply: "always" } })
    expect((await always).status).toBe(200)
    // Siblings run without a request; a call that asked would wait here for a reply nobody gives.
    expect((await inSession("bash", { command: "git status" })).status).toBe(200)
    expect((await inSession("bash", { command: "git status --porcelain" })).status).toBe(200)
    // Another git command is another family: it still asks.
    const other = inSession("bash", { command: "git log -1; echo logged" })
    const again = await nextRequest()
    expect(again).toMatchObject({ patterns: ["git log -1", "echo logged"], always: ["git log *", "echo *"] })
    await api(target(), "POST", `/permission/${again.id}/reply`, { directory: project, body: { reply: "once" } })
    expect((await other).json.output).toContain("logged\n")
    // Each command of a line is approved with its own family.
    const both = inSession("bash", { command: "echo gated-always; terraform workspace show" })
    const bothRequest = await nextRequest()
    expect(bothRequest.always).toEqual(["echo *", "terraform workspace show *"])
    await api(target(), "POST", `/permission/${bothRequest.id}/reply`, { directory: project, body: { reply: "always" } })
    expect((await both).json.output).toContain("gated-always\n")
    expect((await inSession("bash", { command: "echo gated-other" })).json.output).toBe("gated-other\n")

    const guarded = inSession("write", { filePath: "./guarded/notes.md", content: "x".repeat(5000) })
    const write = await nextRequest()
    expect(write).toMatchObject({ permission: "edit", patterns: ["guarded/notes.md"], always: ["*"] })
    expect(write.metadata.content).toBe(`${"x".repeat(4096)}… (5000 characters)`)
    await api(target(), "POST", `/permission/${write.id}/reply`, { directory: project, body: { reply: "once" } })
    expect((await guarded).status).toBe(200)
    expect((await inSession("write", { filePath: "open.md", content: "free" })).status).toBe(200)
    // A call for a session runs in the session's directory, whatever directory the request names.
    const elsewhere = await api(target(), "POST", `/tool/write/execute?sessionID=${sessionID}`, { body: { filePath: "moved.md", content: "here" }, directory: outside })
    expect(elsewhere.status, elsewhere.text).toBe(200)
    expect(await exists(join(project, "moved.md"))).toBe(true)
    expect(await exists(join(outside, "moved.md"))).toBe(false)

    // The agent's rules: build asks before reading .env files (upstream's default); a config agent's rules come last.
    await put(join(project, ".env"), "TOKEN=x\n")
    const envRead = inSession("read", { filePath: ".env" })
    const readRequest = await nextRequest()
    expect(readRequest).toMatchObject({ permission: "read", patterns: [".env"] })
    await api(target(), "POST", `/permission/${readRequest.id}/reply`, { directory: project, body: { reply: "once" } })
    expect((await envRead).json.output).toContain("TOKEN=x")
    await api(target(), "PATCH", "/config", { body: { agent: { careful: { permission: { edit: "deny" } } } } })
    const careful = await api(target(), "POST", `/tool/write/execute?sessionID=${sessionID}&agent=careful`, {
      body: { filePath: "open.md", content: "careful may not" },
      directory: project,
    })
    expectNamedError(careful, 403, "PermissionDeniedError")
    expect(await readFile(join(project, "open.md"), "utf8")).toBe("free")
    expectNamedError(
      await api(target(), "POST", `/tool/read/execute?sessionID=${sessionID}&agent=nobody`, { body: { filePath: "open.md" }, directory: project }),
      400,
      "BadRequest",
    )

    // Without a session the call is the client's own: no rules, no request.
    expect((await run("bash", { command: "echo gated-direct" })).json.output).toBe("gated-direct\n")
    expectNamedError(await api(target(), "POST", "/tool/bash/execute?sessionID=ses_missing", { body: { command: "echo gated" }, directory: project }), 404, "NotFoundError")
    expect((await api(target(), "GET", "/permission", { directory: project })).json).toEqual([])
    expectNamedError(await api(target(), "PATCH", "/config", { body: { permission: { bash: "sometimes" } } }), 400, "BadRequest")
  })

  test("a caller that goes away withdraws the question its tool call waits on", async () => {
    const sessionID = (await api(target(), "POST", "/session", { directory: project, body: {} })).json.id as string
    const question = { question: "Proceed?", header: "Proceed", options: [{ label: "Yes", description: "Go on" }] }
    const caller = new AbortController()
    const call = fetch(`${target().url}/tool/question/execute?sessionID=${sessionID}&directory=${encodeURIComponent(project)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ questions: [question] }),
      signal: caller.signal,
    }).catch((error: Error) => error)
    const pending = () => api(target(), "GET", "/question", { directory: project }).then((r) => r.json as { sessionID: string }[])
    await until(async () => ((await pending()).some((request) => request.sessionID === sessionID) ? true : undefined))
    caller.abort()
    expect(await call).toBeInstanceOf(Error)
    await until(async () => ((await pending()).some((request) => request.sessionID === sessionID) ? undefined : true), {
      what: "the question to be withdrawn",
    })
  })

  test("a restart withdraws the questions nobody waits for any more", async () => {
    const sessionID = (await api(target(), "POST", "/session", { directory: project, body: {} })).json.id as string
    const question = { question: "Still there?", header: "Still", options: [{ label: "Yes", description: "Yes" }] }
    const call = api(target(), "POST", `/tool/question/execute?sessionID=${sessionID}`, { directory: project, body: { questions: [question] } }).catch(
      (error: Error) => error,
    )
    const pending = () => api(target(), "GET", "/question", { directory: project }).then((r) => r.json as { sessionID: string }[])
    await until(async () => ((await pending()).some((request) => request.sessionID === sessionID) ? true : undefined))
    await target().restart()
    await call
    expect(await pending()).toEqual([])
  })

  test("experimental tool routes", async () => {
    expect((await api(target(), "GET", "/experimental/tool/ids")).json).toEqual(["read", "list", "glob", "grep", "write", "edit", "bash", "question", "todowrite", "todoread", "task", "webfetch", "skill"])
    const tools = await api(target(), "GET", "/experimental/tool?provider=anthropic&model=claude", { directory: project })
    expect(tools.json).toEqual((await api(target(), "GET", "/tool")).json)
  })
})

describe("local machine: stopping it kills the tool commands still running", () => {
  test("close() kills a running bash command's whole process group", async () => {
    const local = createLocalMachine({ stateDirectory: join(base, "state"), publish: async () => {}, ripgrep: false })
    const marker = join(base, "survived-close")
    const started = join(base, "started")
    const running = local.machine.tools.execute(project, "bash", { command: `touch ${started}; (sleep 2; touch ${marker}) & sleep 30` })
    await until(async () => ((await exists(started)) ? true : undefined), { what: "the command to start" })
    await local.close()
    const result = await running
    expect(result.metadata).toMatchObject({ signal: "SIGKILL", timedOut: false })
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(await exists(marker)).toBe(false)
  })
})
