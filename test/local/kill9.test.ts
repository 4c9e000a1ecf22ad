import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { api, text, until } from "../support/http.ts"
import { startTarget, uniqueDirectory, type Target } from "../support/targets.ts"

/**
 * kill -9 during writes: every write the server acknowledged (a 200 with its body) must be there after a
 * restart on the same state directory, and the server must start (no torn state). Writes in flight when the
 * process died may or may not be there; they were never acknowledged.
 */
describe("local agent: kill -9 during writes", () => {
  let target: Target
  beforeAll(async () => {
    target = await startTarget("local")
  })
  afterAll(async () => {
    await target?.stop()
  })

  const directory = uniqueDirectory("kill9")
  const sessions = new Map<string, { id: string; title: string; directory: string }>()
  const messages = new Map<string, { sessionID: string; body: unknown }>()

  /** Concurrent writers hammering the server until `stop` is set; returns how many writes were acknowledged. */
  function hammer(state: { stop: boolean; acked: number }, workers: number) {
    let counter = 0
    const worker = async (index: number) => {
      while (!state.stop) {
        const n = counter++
        const ids = [...sessions.keys()]
        try {
          if (ids.length === 0 || n % 4 === 0) {
            const title = `w${index}-${n}`
            const response = await api(target, "POST", "/session", { directory, body: { title } })
            if (response.status !== 200) throw new Error(`create answered ${response.status}: ${response.text}`)
            sessions.set(response.json.id, { id: response.json.id, title, directory: response.json.directory })
          } else {
            const sessionID = ids[n % ids.length]!
            // sizes up to ~48 KB so that a kill often lands in the middle of a record
            const body = "x".repeat((n * 7919) % 48_000) + ` #${n}`
            const response = await api(target, "POST", `/session/${sessionID}/message`, {
              body: { parts: [text(body), text(`second part of ${n}`)], noReply: true },
            })
            if (response.status !== 200) throw new Error(`prompt answered ${response.status}: ${response.text}`)
            messages.set(response.json.info.id, { sessionID, body: response.json })
          }
          state.acked++
        } catch (error) {
          // a refused connection or a reset once the process is gone: not acknowledged
          if (!state.stop && !/fetch failed|ECONNRESET|ECONNREFUSED|socket|terminated/i.test(String(error) + String((error as Error).cause))) {
            throw error
          }
        }
      }
    }
    return Promise.all(Array.from({ length: workers }, (_, index) => worker(index)))
  }

  async function verify() {
    const health = await api(target, "GET", "/global/health")
    expect(health.status).toBe(200)
    const listed = await api(target, "GET", "/session", { directory })
    expect(listed.status).toBe(200)
    const listedIDs = new Set((listed.json as { id: string }[]).map((s) => s.id))
    for (const session of sessions.values()) {
      expect(listedIDs.has(session.id), `acknowledged session ${session.id} is listed`).toBe(true)
      const fetched = await api(target, "GET", `/session/${session.id}`)
      expect(fetched.status).toBe(200)
      expect(fetched.json).toMatchObject(session)
    }
    for (const [messageID, { sessionID, body }] of messages) {
      const fetched = await api(target, "GET", `/session/${sessionID}/message/${messageID}`)
      expect(fetched.status, `acknowledged message ${messageID}`).toBe(200)
      expect(fetched.json).toEqual(body)
    }
    // every session's full message list reads back (no half-applied record)
    for (const id of listedIDs) expect((await api(target, "GET", `/session/${id}/message`)).status).toBe(200)
  }

  test.each([1, 2, 3])("round %i: SIGKILL mid-stream, restart, every acknowledged write is there", async (round) => {
    const state = { stop: false, acked: 0 }
    const running = hammer(state, 12)
    const wanted = 30 + round * 20
    await until(() => (state.acked >= wanted ? true : undefined), { timeoutMs: 60_000, what: `${wanted} acknowledged writes` })
    await target.kill9!()
    state.stop = true
    await running
    expect(state.acked).toBeGreaterThanOrEqual(wanted)

    await target.restart()
    await verify()
  })
})
