import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, expectNamedError, text, until, type ApiOptions } from "../support/http.ts"
import { fakeProviderConfig, startModelServer, type ModelServer } from "../support/model-server.ts"
import { startPairedEdge, type PairedEdge } from "../support/paired-edge.ts"
import { connect, type SseStream } from "../support/sse.ts"
import { startTarget, targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

/**
 * Snapshots, diffs and revert around agent turns (upstream 1.18's shapes): a step that edits files gets a
 * `patch` part and its snapshots, the prompt's `summary.diffs` and `/diff?messageID=` list the files, revert puts
 * them back on disk and unrevert re-applies them, and the next prompt drops the reverted messages. On the local
 * agent and on an edge with a paired machine (the files are the machine's, reached through the tunnel); an edge
 * with no machine takes no snapshots.
 */

interface Server {
  url: string
  headers: Record<string, string>
  stop(): Promise<void>
}

const runtimes = [...(targetKinds().includes("local") ? ["local"] : []), ...(targetKinds().includes("worker") && targetKinds().includes("local") ? ["edge with a machine"] : [])]

async function startServer(runtime: string): Promise<Server> {
  if (runtime === "local") {
    const target = await startTarget("local")
    return { url: target.url, headers: target.authHeaders, stop: () => target.stop() }
  }
  const paired: PairedEdge = await startPairedEdge()
  return { url: paired.edge.url, headers: paired.clientHeaders, stop: () => paired.stop() }
}

const call = (server: Server, method: string, path: string, options: ApiOptions = {}) =>
  api({ url: server.url, authHeaders: server.headers } as Target, method, path, options)

const gitIn = (directory: string, ...args: string[]) => execFileSync("git", args, { cwd: directory, encoding: "utf8" })

/** What the user's own repository says about its state: none of it may change through snapshots or revert. */
function userGitState(directory: string) {
  return {
    status: gitIn(directory, "status", "--porcelain"),
    staged: gitIn(directory, "diff", "--cached", "--name-only"),
    stash: gitIn(directory, "stash", "list"),
    head: gitIn(directory, "rev-parse", "HEAD"),
  }
}

/** A project with a.txt, a user's own uncommitted change and a stash entry (or no git at all). */
function makeProject(label: string, withGit: boolean): string {
  const directory = uniqueDirectory(label)
  mkdirSync(directory, { recursive: true })
  writeFileSync(join(directory, "a.txt"), "one\ntwo\nthree\n")
  writeFileSync(join(directory, "mine.txt"), "mine\n")
  writeFileSync(join(directory, ".gitignore"), "ignored.log\n")
  writeFileSync(join(directory, "ignored.log"), "noise\n")
  if (withGit) {
    const git = (...args: string[]) => gitIn(directory, "-c", "user.email=t@t", "-c", "user.name=t", ...args)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "init")
    writeFileSync(join(directory, "mine.txt"), "stashed\n")
    git("stash", "-q")
    writeFileSync(join(directory, "mine.txt"), "my own edit\n")
  }
  return realpathSync(directory)
}

describe.each(runtimes)("snapshots, diffs and revert [%s]", (runtime) => {
  let server: Server
  let model: ModelServer
  const made: string[] = []

  beforeAll(async () => {
    model = await startModelServer()
    server = await startServer(runtime)
    const configured = await call(server, "PATCH", "/config", { body: { ...fakeProviderConfig(model.baseURL), permission: { bash: "allow", edit: "allow" } } })
    expect(configured.status, configured.text).toBe(200)
  }, 180_000)
  afterAll(async () => {
    await server?.stop()
    await model?.close()
    for (const directory of made) rmSync(directory, { recursive: true, force: true })
  })

  /** A session whose turn edits a.txt and writes new.txt in one step, then answers. */
  async function editingTurn(directory: string) {
    const session = (await call(server, "POST", "/session", { directory, body: {} })).json
    const stream = await connect(`${server.url}/event?directory=${encodeURIComponent(directory)}`, { headers: server.headers })
    model.script(
      {
        toolCalls: [
          { name: "edit", input: { filePath: join(directory, "a.txt"), oldString: "two", newString: "TWO" } },
          { name: "write", input: { filePath: join(directory, "new.txt"), content: "fresh\n" } },
        ],
      },
      { text: "Done editing." },
    )
    const reply = await call(server, "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("edit the files")] } })
    expect(reply.status, reply.text).toBe(200)
    // The prompt's diffs are summarized as the session goes idle, after the reply.
    await stream.waitForEvent("session.idle", (properties) => properties.sessionID === session.id)
    const summarized = await stream.waitForEvent("message.updated", (properties) => properties.info.role === "user" && properties.info.summary?.diffs?.length > 0)
    const messages = (await call(server, "GET", `/session/${session.id}/message`, { directory })).json as any[]
    return { session, stream, messages, user: messages[0].info, summarized: summarized.payload!.properties.info }
  }

  for (const withGit of [true, false]) {
    test(`a turn's edits show in its diff, revert restores them on disk, unrevert re-applies them, a prompt after revert drops the reverted messages (${withGit ? "git project; the user's git state untouched" : "no git"})`, async () => {
      const directory = makeProject(withGit ? "snap-git" : "snap-plain", withGit)
      made.push(directory)
      const before = withGit ? userGitState(directory) : undefined
      const { session, stream, messages, user, summarized } = await editingTurn(directory)
      try {
        // The editing step: snapshots on step-start and step-finish, then a patch part naming the two files.
        const step = messages[1].parts as any[]
        const start = step.find((part) => part.type === "step-start")
        const finish = step.find((part) => part.type === "step-finish")
        const patch = step.find((part) => part.type === "patch")
        expect(start.snapshot).toMatch(/^[0-9a-f]{40}$/)
        expect(finish.snapshot).toMatch(/^[0-9a-f]{40}$/)
        expect(finish.snapshot).not.toBe(start.snapshot)
        expect(patch).toMatchObject({ hash: start.snapshot, files: [join(directory, "a.txt"), join(directory, "new.txt")] })
        expect(step.map((part) => part.type).slice(-2)).toEqual(["step-finish", "patch"])
        // The answering step changed nothing: same snapshot on both ends, no patch.
        const answer = messages[2].parts as any[]
        expect(answer.find((part) => part.type === "step-start").snapshot).toBe(finish.snapshot)
        expect(answer.some((part) => part.type === "patch")).toBe(false)

        const expected = [
          {
            file: "a.txt",
            patch: "Index: a.txt\n===================================================================\n--- a.txt\t\n+++ a.txt\t\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n",
            additions: 1,
            deletions: 1,
            status: "modified",
          },
          {
            file: "new.txt",
            patch: "Index: new.txt\n===================================================================\n--- new.txt\t\n+++ new.txt\t\n@@ -0,0 +1,1 @@\n+fresh\n",
            additions: 1,
            deletions: 0,
            status: "added",
          },
        ]
        // As upstream 1.18: the prompt's diffs on its user message and at /diff?messageID=; none without messageID.
        expect(user.summary.diffs).toEqual(expected)
        expect((await call(server, "GET", `/session/${session.id}/diff?messageID=${user.id}`, { directory })).json).toEqual(expected)
        expect((await call(server, "GET", `/session/${session.id}/diff`, { directory })).json).toEqual([])
        expect(summarized.summary.diffs).toEqual(expected)
        expect((await call(server, "GET", `/session/${session.id}`, { directory })).json.summary).toEqual({ additions: 0, deletions: 0, files: 0 })
        // Ignored files never enter a snapshot.
        expect(expected.map((diff) => diff.file)).not.toContain("ignored.log")

        // Revert: the files as they were before the prompt, the session marked with the snapshot and what was undone.
        const mark = stream.frames.length
        const reverted = await call(server, "POST", `/session/${session.id}/revert`, { directory, body: { messageID: user.id } })
        expect(reverted.status, reverted.text).toBe(200)
        expect(readFileSync(join(directory, "a.txt"), "utf8")).toBe("one\ntwo\nthree\n")
        expect(existsSync(join(directory, "new.txt"))).toBe(false)
        expect(readFileSync(join(directory, "ignored.log"), "utf8")).toBe("noise\n")
        expect(reverted.json.revert).toMatchObject({ messageID: user.id, snapshot: finish.snapshot })
        expect(reverted.json.revert.diff).toContain("-TWO\n+two")
        expect(reverted.json.revert.diff).toContain("deleted file mode")
        expect(reverted.json.summary).toEqual({ additions: 2, deletions: 1, files: 2 })
        const diffEvent = await stream.waitForEvent("session.diff", (properties) => properties.sessionID === session.id, mark)
        expect(diffEvent.payload!.properties.diff).toEqual(expected)
        const revertedEvent = await stream.waitForEvent("session.updated", (properties) => properties.info.revert !== undefined, mark)
        expect(revertedEvent.payload!.properties.info.revert.messageID).toBe(user.id)
        if (before) expect(userGitState(directory)).toEqual(before)

        // Unrevert: the turn's files are back, the mark is gone.
        const unreverted = await call(server, "POST", `/session/${session.id}/unrevert`, { directory, body: {} })
        expect(unreverted.status, unreverted.text).toBe(200)
        expect(unreverted.json.revert).toBeUndefined()
        expect(readFileSync(join(directory, "a.txt"), "utf8")).toBe("one\nTWO\nthree\n")
        expect(readFileSync(join(directory, "new.txt"), "utf8")).toBe("fresh\n")

        // Revert again, then prompt: the reverted messages go (announced), the new turn is all that is left.
        await call(server, "POST", `/session/${session.id}/revert`, { directory, body: { messageID: user.id } })
        expect(existsSync(join(directory, "new.txt"))).toBe(false)
        const beforePrompt = stream.frames.length
        model.script({ text: "Fresh start." })
        const next = await call(server, "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("again")] } })
        expect(next.status, next.text).toBe(200)
        await stream.waitForEvent("message.removed", (properties) => properties.messageID === messages.at(-1).info.id, beforePrompt)
        const removed = stream.frames
          .slice(beforePrompt)
          .filter((frame) => frame.payload?.type === "message.removed")
          .map((frame) => frame.payload!.properties.messageID)
        expect(removed).toEqual(messages.map((entry) => entry.info.id))
        const after = (await call(server, "GET", `/session/${session.id}/message`, { directory })).json as any[]
        expect(after.map((entry) => entry.info.role)).toEqual(["user", "assistant"])
        expect(after[0].parts[0].text).toBe("again")
        expect((await call(server, "GET", `/session/${session.id}`, { directory })).json.revert).toBeUndefined()
        if (before) expect(userGitState(directory)).toEqual(before)
      } finally {
        stream.close()
      }
    }, 180_000)
  }

  test("a revert or unrevert of an unknown session is a 404; a busy session refuses it (409)", async () => {
    const directory = makeProject("snap-errors", false)
    made.push(directory)
    const missing = await call(server, "POST", "/session/ses_missing/revert", { directory, body: { messageID: "msg_missing" } })
    expectNamedError(missing, 404, "NotFoundError")
    const session = (await call(server, "POST", "/session", { directory, body: {} })).json
    model.script({ text: "slow", firstChunkDelayMs: 3_000 })
    const pending = call(server, "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("hi")] } })
    await until(async () => {
      const status = (await call(server, "GET", "/session/status", { directory })).json
      return status[session.id]?.type === "busy" ? true : undefined
    })
    const user = (await call(server, "GET", `/session/${session.id}/message`, { directory })).json[0].info
    expectNamedError(await call(server, "POST", `/session/${session.id}/revert`, { directory, body: { messageID: user.id } }), 409, "SessionBusyError")
    expectNamedError(await call(server, "POST", `/session/${session.id}/unrevert`, { directory, body: {} }), 409, "SessionBusyError")
    expect((await pending).status).toBe(200)
  }, 120_000)
})

describe.skipIf(!targetKinds().includes("worker"))("an edge without a machine", () => {
  let edge: Target
  let model: ModelServer
  beforeAll(async () => {
    model = await startModelServer()
    edge = await startTarget("worker")
    const configured = await api(edge, "PATCH", "/config", { body: { ...fakeProviderConfig(model.baseURL) } })
    expect(configured.status, configured.text).toBe(200)
  }, 180_000)
  afterAll(async () => {
    await edge?.stop()
    await model?.close()
  })

  test("takes no snapshots: parts without snapshot, no patch, an empty diff; a revert only marks the session", async () => {
    const directory = edge.directory
    const session = (await api(edge, "POST", "/session", { directory, body: {} })).json
    model.script({ text: "No files here." })
    const reply = await api(edge, "POST", `/session/${session.id}/message`, { directory, body: { parts: [text("hi")] } })
    expect(reply.status, reply.text).toBe(200)
    const messages = (await api(edge, "GET", `/session/${session.id}/message`, { directory })).json as any[]
    const parts = messages[1].parts as any[]
    expect(parts.find((part) => part.type === "step-start").snapshot).toBeUndefined()
    expect(parts.find((part) => part.type === "step-finish").snapshot).toBeUndefined()
    expect(parts.some((part) => part.type === "patch")).toBe(false)
    const user = messages[0].info
    expect((await api(edge, "GET", `/session/${session.id}/diff?messageID=${user.id}`, { directory })).json).toEqual([])
    const reverted = await api(edge, "POST", `/session/${session.id}/revert`, { directory, body: { messageID: user.id } })
    expect(reverted.status, reverted.text).toBe(200)
    expect(reverted.json.revert).toEqual({ messageID: user.id })
    const unreverted = await api(edge, "POST", `/session/${session.id}/unrevert`, { directory, body: {} })
    expect(unreverted.json.revert).toBeUndefined()
  }, 120_000)
})
