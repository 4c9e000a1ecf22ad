import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs"
import { mkdir, readFile, rm, stat, symlink, unlink, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest"
import { createFileService } from "../../local-agent/machine/files.ts"
import { findRipgrep } from "../../local-agent/machine/search.ts"
import { api, expectNamedError, until, useTarget } from "../support/http.ts"
import { connect, type SseStream } from "../support/sse.ts"

/**
 * Files, search, paths and git of the local agent, on a real temporary git repository:
 * listing with .gitignore, content (text, binary, diff/patch against HEAD), status, ripgrep and the
 * built-in search, fuzzy file names, /path, /vcs, the file watcher, and the path-confinement table.
 */

const SECRET = "TOP-SECRET-OUTSIDE-THE-PROJECT"
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0x00])

// real paths: /tmp may itself be a symlink somewhere, and the server reports what it is given
const base = realpathSync(mkdtempSync(join(tmpdir(), "oc-files-")))
const repo = join(base, "repo")
const outside = join(base, "outside")
mkdirSync(repo)

function git(cwd: string, ...args: string[]) {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: base } })
}

async function write(path: string, content: string | Buffer) {
  await mkdir(join(path, ".."), { recursive: true })
  await writeFile(path, content)
}

/** A repository with a commit, then changes on top: modified, deleted, untracked, ignored, binary, symlinks. */
async function createRepository(root: string) {
  git(root, "init", "-q", "-b", "main")
  git(root, "config", "user.email", "test@example.com")
  git(root, "config", "user.name", "Test")
  git(root, "config", "commit.gpgsign", "false")
  await write(join(root, ".gitignore"), "node_modules/\n*.log\nbuild/\n")
  await write(join(root, "src/app.ts"), 'export const greeting = "hello"\nconsole.log(greeting)\n')
  await write(join(root, "src/util/strings.ts"), "export function shout(s: string) {\n  return s.toUpperCase()\n}\n")
  await write(join(root, "docs/guide.md"), "# Guide\n\nSay hello to the guide.\n")
  await write(join(root, "docs/old.md"), "one\ntwo\n")
  await write(join(root, "nested/.gitignore"), "*.tmp\n!keep.tmp\n")
  await write(join(root, "nested/scratch.tmp"), "hello scratch\n")
  await write(join(root, "nested/keep.tmp"), "hello keep\n")
  await write(join(root, "nested/deeper/file.txt"), "deep\n")
  await write(join(root, ".config/settings.json"), '{"hello": true}\n')
  await write(join(root, "logo.png"), PNG)
  git(root, "add", "-A")
  git(root, "commit", "-q", "-m", "initial")
  // changes on top of HEAD
  await write(join(root, "src/app.ts"), 'export const greeting = "hello, world"\nconsole.log(greeting)\nconsole.log("done")\n')
  await unlink(join(root, "docs/old.md"))
  await write(join(root, "notes.txt"), "first\nsecond\nthird\n")
  await write(join(root, "node_modules/pkg/index.js"), "module.exports = 'hello from node_modules'\n")
  await write(join(root, "debug.log"), "hello from a log\n")
  await write(join(root, "build/out.js"), "hello build\n")
  await write(join(outside, "secret.txt"), `${SECRET}\n`)
  await symlink(join(outside, "secret.txt"), join(root, "escape"))
  await symlink(outside, join(root, "escape-dir"))
  await symlink("src/app.ts", join(root, "inner-link"))
}

afterAll(() => rm(base, { recursive: true, force: true }))

describe("local agent: files, search, paths and git", () => {
  beforeAll(() => createRepository(repo))
  const target = useTarget("local", { directory: repo })

  const get = (path: string, query: Record<string, string> = {}, directory?: string) => {
    const search = new URLSearchParams(query).toString()
    return api(target(), "GET", search ? `${path}?${search}` : path, directory ? { directory } : {})
  }

  test("GET /file lists a directory with .gitignore'd entries marked, directories first", async () => {
    const response = await get("/file", { path: "" })
    expect(response.status, response.text).toBe(200)
    const byName = new Map<string, any>(response.json.map((node: any) => [node.name, node]))
    expect(byName.get("src")).toEqual({ name: "src", path: "src", absolute: join(repo, "src"), type: "directory", ignored: false })
    expect(byName.get("node_modules")).toMatchObject({ type: "directory", ignored: true })
    expect(byName.get("build")).toMatchObject({ type: "directory", ignored: true })
    expect(byName.get(".git")).toMatchObject({ type: "directory", ignored: true })
    expect(byName.get("debug.log")).toMatchObject({ type: "file", ignored: true })
    expect(byName.get("notes.txt")).toMatchObject({ type: "file", ignored: false })
    expect(byName.get("logo.png")).toMatchObject({ type: "file", ignored: false })
    const types = response.json.map((node: any) => node.type)
    expect(types.lastIndexOf("directory")).toBeLessThan(types.indexOf("file"))

    // a nested .gitignore applies below its directory, with negation
    const nested = await get("/file", { path: "nested" })
    expect(nested.status, nested.text).toBe(200)
    const flags = Object.fromEntries(nested.json.map((node: any) => [node.path, node.ignored]))
    expect(flags).toEqual({ "nested/deeper": false, "nested/.gitignore": false, "nested/keep.tmp": false, "nested/scratch.tmp": true })
  })

  test("GET /file/content: text as is, binary as base64 with its mime type", async () => {
    const textFile = await get("/file/content", { path: "src/util/strings.ts" })
    expect(textFile.status, textFile.text).toBe(200)
    expect(textFile.json).toEqual({ type: "text", content: "export function shout(s: string) {\n  return s.toUpperCase()\n}\n" })

    const binary = await get("/file/content", { path: "logo.png" })
    expect(binary.status, binary.text).toBe(200)
    expect(binary.json).toEqual({ type: "binary", content: PNG.toString("base64"), encoding: "base64", mimeType: "image/png" })

    // an absolute path inside the directory and a symlink that stays inside are fine
    const absolute = await get("/file/content", { path: join(repo, "src/util/strings.ts") })
    expect(absolute.json).toEqual(textFile.json)
    const link = await get("/file/content", { path: "inner-link" })
    expect(link.status, link.text).toBe(200)
    expect(link.json.content).toContain("hello, world")
  })

  test("GET /file/content of a file changed since HEAD carries the git diff and its hunks", async () => {
    const response = await get("/file/content", { path: "src/app.ts" })
    expect(response.status, response.text).toBe(200)
    const body = response.json
    expect(body.type).toBe("text")
    expect(body.content).toBe('export const greeting = "hello, world"\nconsole.log(greeting)\nconsole.log("done")\n')
    expect(body.diff).toBe(git(repo, "diff", "HEAD", "--", "src/app.ts"))
    expect(body.diff).toContain('-export const greeting = "hello"')
    expect(body.patch).toMatchObject({ oldFileName: "src/app.ts", newFileName: "src/app.ts" })
    expect(body.patch.hunks).toEqual([
      {
        oldStart: 1,
        oldLines: 2,
        newStart: 1,
        newLines: 3,
        lines: [
          '-export const greeting = "hello"',
          '+export const greeting = "hello, world"',
          " console.log(greeting)",
          '+console.log("done")',
        ],
      },
    ])
    // unchanged and untracked files have no diff
    for (const path of ["docs/guide.md", "notes.txt"]) {
      const plain = await get("/file/content", { path })
      expect(plain.status).toBe(200)
      expect(plain.json.diff).toBeUndefined()
      expect(plain.json.patch).toBeUndefined()
    }
  })

  test("GET /file/status: modified, deleted and untracked files with line counts; ignored ones left out", async () => {
    const response = await get("/file/status")
    expect(response.status, response.text).toBe(200)
    const byPath = Object.fromEntries(response.json.map((entry: any) => [entry.path, entry]))
    expect(byPath["src/app.ts"]).toEqual({ path: "src/app.ts", added: 2, removed: 1, status: "modified" })
    expect(byPath["docs/old.md"]).toEqual({ path: "docs/old.md", added: 0, removed: 2, status: "deleted" })
    expect(byPath["notes.txt"]).toEqual({ path: "notes.txt", added: 3, removed: 0, status: "added" })
    // a symlink out counts as its link text; what it points to is not read
    expect(byPath["escape"]).toEqual({ path: "escape", added: 1, removed: 0, status: "added" })
    expect(Object.keys(byPath)).not.toContain("debug.log")
    expect(Object.keys(byPath).some((path) => path.startsWith("node_modules"))).toBe(false)
    expect(response.text).not.toContain(SECRET)
  })

  test("GET /find: ripgrep-shaped hits; .gitignore'd files, .git and symlinks out are not searched", async () => {
    const response = await get("/find", { pattern: "hello" })
    expect(response.status, response.text).toBe(200)
    const paths = [...new Set(response.json.map((hit: any) => hit.path.text))].sort()
    expect(paths).toEqual([".config/settings.json", "docs/guide.md", "nested/keep.tmp", "src/app.ts"])
    const hit = response.json.find((h: any) => h.path.text === "docs/guide.md")
    expect(hit).toEqual({
      path: { text: "docs/guide.md" },
      lines: { text: "Say hello to the guide.\n" },
      line_number: 3,
      absolute_offset: 9,
      submatches: [{ match: { text: "hello" }, start: 4, end: 9 }],
    })
    const secret = await get("/find", { pattern: SECRET })
    expect(secret.status).toBe(200)
    expect(secret.json).toEqual([])
  })

  test("GET /find/file: fuzzy names, directories with a trailing slash, dirs, type and limit", async () => {
    const fuzzy = await get("/find/file", { query: "strngs" })
    expect(fuzzy.status, fuzzy.text).toBe(200)
    expect(fuzzy.json[0]).toBe("src/util/strings.ts")

    const util = await get("/find/file", { query: "util" })
    expect(util.json).toContain("src/util/")
    expect(util.json).toContain("src/util/strings.ts")

    const filesOnly = await get("/find/file", { query: "util", dirs: "false" })
    expect(filesOnly.json).toContain("src/util/strings.ts")
    expect(filesOnly.json.some((path: string) => path.endsWith("/"))).toBe(false)

    const directoriesOnly = await get("/find/file", { query: "src", type: "directory" })
    expect(directoriesOnly.json.length).toBeGreaterThan(0)
    expect(directoriesOnly.json.every((path: string) => path.endsWith("/"))).toBe(true)
    expect(directoriesOnly.json[0]).toBe("src/")

    const typedFiles = await get("/find/file", { query: "s", type: "file" })
    expect(typedFiles.json.length).toBeGreaterThan(1)
    expect(typedFiles.json.every((path: string) => !path.endsWith("/"))).toBe(true)

    const limited = await get("/find/file", { query: "", type: "file", limit: "2" })
    expect(limited.json).toHaveLength(2)

    // ignored trees and .git are never offered
    const all = await get("/find/file", { query: "", type: "file", limit: "1000" })
    expect(all.json).toContain("notes.txt")
    expect(all.json.some((path: string) => /node_modules|^build\/|\.log$|^\.git\/|scratch\.tmp/.test(path))).toBe(false)

    const bad = await get("/find/file", { query: "x", limit: "0" })
    expectNamedError(bad, 400, "BadRequest")
  })

  test("GET /path and GET /vcs", async () => {
    const path = await get("/path")
    expect(path.status, path.text).toBe(200)
    expect(path.json).toMatchObject({ directory: repo, worktree: repo, state: target().stateDir })
    expect(path.json.home).toMatch(/^\//)
    expect(path.json.config).toMatch(/opencode$/)

    const vcs = await get("/vcs")
    expect(vcs.status, vcs.text).toBe(200)
    expect(vcs.json).toEqual({ branch: "main", default_branch: "main" })

    // outside git: no branch, and the worktree is "/"
    const plain = join(base, "outside")
    expect((await get("/vcs", {}, plain)).json).toEqual({})
    expect((await get("/path", {}, plain)).json).toMatchObject({ worktree: "/", directory: plain })
  })

  test("unknown files and directories are 404 NotFoundError; a file is not a directory", async () => {
    expectNamedError(await get("/file/content", { path: "no/such/file.ts" }), 404, "NotFoundError")
    expectNamedError(await get("/file", { path: "no-such-dir" }), 404, "NotFoundError")
    expectNamedError(await get("/file", { path: "" }, join(base, "missing-directory")), 404, "NotFoundError")
    expectNamedError(await get("/file", { path: "notes.txt" }), 400, "BadRequest")
    expectNamedError(await get("/file/content", { path: "src" }), 400, "BadRequest")
    expectNamedError(await get("/file/content"), 400, "BadRequest")
  })

  describe("path confinement", () => {
    /** [label, path as the server must see it after the URL's own decoding] */
    const table: [string, string][] = [
      ["../x", "../x"],
      ["a/../../x", "a/../../x"],
      ["../outside/secret.txt", "../outside/secret.txt"],
      ["src/../../outside/secret.txt", "src/../../outside/secret.txt"],
      ["%2e%2e/x (percent-encoded ..)", "%2e%2e/x"],
      ["%2E%2E/outside/secret.txt", "%2E%2E/outside/secret.txt"],
      ["..%2fx (encoded slash)", "..%2fx"],
      ["%2e%2e%2foutside%2fsecret.txt", "%2e%2e%2foutside%2fsecret.txt"],
      ["%252e%252e/x (double encoding)", "%252e%252e/x"],
      ["..\\x (backslash)", "..\\x"],
      ["/etc/passwd (absolute, outside)", "/etc/passwd"],
      ["absolute path of the secret", join(outside, "secret.txt")],
      ["the directory's parent", base],
      ["a symlink to a file outside", "escape"],
      ["through a symlink to a directory outside", "escape-dir/secret.txt"],
      ["a symlink to a directory outside", "escape-dir"],
    ]

    test.each(table)("%s is refused with PathOutsideDirectoryError on read and list", async (_label, path) => {
      for (const route of ["/file/content", "/file"]) {
        const response = await get(route, { path })
        expectNamedError(response, 403, "PathOutsideDirectoryError")
        expect(response.text).not.toContain(SECRET)
        expect(response.text).not.toContain("root:")
      }
    })

    test("a raw (not re-encoded) %2e%2e in the URL is decoded to .. and refused too", async () => {
      for (const raw of ["%2e%2e/x", "%2e%2e%2fx", "..%2Foutside%2Fsecret.txt", "%2e%2e%252fx"]) {
        const response = await api(target(), "GET", `/file/content?path=${raw}`)
        expectNamedError(response, 403, "PathOutsideDirectoryError")
      }
    })

    test("the file outside is never read (its access time does not move)", async () => {
      const secret = join(outside, "secret.txt")
      // relatime updates atime on a read when atime <= mtime: set it so, and check this filesystem tracks it at all
      const reset = () => utimes(secret, new Date(2000, 0, 1), new Date(2001, 0, 1))
      await reset()
      await readFile(secret)
      const tracked = (await stat(secret)).atimeMs > new Date(2001, 0, 1).getTime()
      await reset()
      const before = (await stat(secret)).atimeMs
      for (const path of ["escape", "escape-dir/secret.txt", secret, "../outside/secret.txt"]) {
        expectNamedError(await get("/file/content", { path }), 403, "PathOutsideDirectoryError")
      }
      if (tracked) expect((await stat(secret)).atimeMs).toBe(before)
    })
  })
})

describe("local agent: file watcher", () => {
  const watched = join(base, "watched")
  beforeAll(async () => {
    await mkdir(watched, { recursive: true })
    git(watched, "init", "-q", "-b", "main")
    git(watched, "config", "user.email", "test@example.com")
    git(watched, "config", "user.name", "Test")
    await write(join(watched, ".gitignore"), "ignored/\n")
    await write(join(watched, "README.md"), "watched\n")
    git(watched, "add", "-A")
    git(watched, "commit", "-q", "-m", "initial")
  })
  const target = useTarget("local", { directory: watched })
  const streams: SseStream[] = []
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close()
  })

  async function subscribe() {
    const stream = await connect(`${target().url}/event?directory=${encodeURIComponent(watched)}`)
    streams.push(stream)
    // any file request starts the directory's watcher
    expect((await api(target(), "GET", "/file?path=", { directory: watched })).status).toBe(200)
    return stream
  }

  test("a file written in the directory is published as file.watcher.updated; ignored ones are not", async () => {
    const stream = await subscribe()
    const file = join(watched, "src", "fresh.ts")
    // the watcher starts in the background: write until it reports (a bounded wait, no timing assertion)
    let round = 0
    await until(
      async () => {
        await mkdir(join(watched, "ignored"), { recursive: true })
        await writeFile(join(watched, "ignored", "noise.txt"), `noise ${round}\n`)
        await mkdir(join(watched, "src"), { recursive: true })
        await writeFile(file, `export const round = ${round++}\n`)
        await new Promise((resolve) => setTimeout(resolve, 200))
        return stream.events().find((frame) => frame.payload?.type === "file.watcher.updated" && frame.payload.properties.file === file)
      },
      { what: "file.watcher.updated for the written file" },
    )
    const updates = stream.events().filter((frame) => frame.payload?.type === "file.watcher.updated")
    for (const frame of updates) {
      expect(["add", "change", "unlink"]).toContain(frame.payload!.properties.event)
      expect(frame.payload!.properties.file.startsWith(watched + "/")).toBe(true)
      expect(frame.payload!.properties.file).not.toContain("/ignored/")
      expect(frame.payload!.properties.file).not.toContain("/.git/")
    }

    const from = stream.frames.length
    await unlink(file)
    await stream.waitForEvent("file.watcher.updated", (p) => p.file === file && p.event === "unlink", from)
  })

  test("switching branches publishes vcs.branch.updated", async () => {
    const stream = await subscribe()
    git(watched, "checkout", "-q", "-b", "feature/watch")
    const frame = await stream.waitForEvent("vcs.branch.updated", (p) => p.branch === "feature/watch")
    expect(frame.payload!.properties).toEqual({ branch: "feature/watch" })
    const vcs = await api(target(), "GET", "/vcs", { directory: watched })
    expect(vcs.json.branch).toBe("feature/watch")
  })
})

describe("built-in search (no ripgrep)", () => {
  const root = join(base, "search")
  beforeAll(async () => {
    await mkdir(root, { recursive: true })
    await createRepository(root)
    await write(join(root, "unicode.txt"), "naïve café hello\nzweite Zeile: hello hello\n")
    await write(join(root, "no-newline.txt"), "last hello")
  })

  const builtin = createFileService({ ripgrep: false })

  test("same hit shape as ripgrep: line text with its newline, byte offsets, every submatch", async () => {
    const hits = await builtin.findText(root, "hello")
    const unicode = hits.filter((hit) => hit.path.text === "unicode.txt")
    expect(unicode).toEqual([
      {
        path: { text: "unicode.txt" },
        lines: { text: "naïve café hello\n" },
        line_number: 1,
        absolute_offset: 0,
        submatches: [{ match: { text: "hello" }, start: 13, end: 18 }],
      },
      {
        path: { text: "unicode.txt" },
        lines: { text: "zweite Zeile: hello hello\n" },
        line_number: 2,
        absolute_offset: 19,
        submatches: [
          { match: { text: "hello" }, start: 14, end: 19 },
          { match: { text: "hello" }, start: 20, end: 25 },
        ],
      },
    ])
    expect(hits.find((hit) => hit.path.text === "no-newline.txt")?.lines.text).toBe("last hello")
    const paths = new Set(hits.map((hit) => hit.path.text))
    for (const hidden of ["debug.log", "node_modules/pkg/index.js", "build/out.js", "nested/scratch.tmp", "escape"]) {
      expect(paths.has(hidden), hidden).toBe(false)
    }
    expect(paths.has(".config/settings.json")).toBe(true)
    expect(paths.has("nested/keep.tmp")).toBe(true)
  })

  test("a bad pattern is a 400 BadRequest", async () => {
    await expect(builtin.findText(root, "(unclosed")).rejects.toMatchObject({ name: "BadRequest", status: 400 })
  })

  const rg = findRipgrep()
  test.skipIf(!rg)("gives exactly what ripgrep gives", async () => {
    const withRipgrep = createFileService({ ripgrep: rg! })
    for (const pattern of ["hello", "export (const|function)", "e.", "^#", "Zeile"]) {
      expect(await builtin.findText(root, pattern), pattern).toEqual(await withRipgrep.findText(root, pattern))
    }
    await expect(withRipgrep.findText(root, "(unclosed")).rejects.toMatchObject({ name: "BadRequest", status: 400 })
  })
})
