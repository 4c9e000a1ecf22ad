import { describe, expect, test } from "vitest"
import { clientStream } from "../../worker/limits/client-stream.ts"
import { until } from "../support/http.ts"

/** An event stream's body: a chunk every `everyMs` (its heartbeat), and whether the stream cancelled it. */
function heartbeatBody(everyMs: number) {
  const state = { cancelled: false }
  let timer: ReturnType<typeof setInterval>
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => void (timer = setInterval(() => controller.enqueue(new TextEncoder().encode("beat\n")), everyMs)),
    cancel: () => {
      state.cancelled = true
      clearInterval(timer)
    },
  })
  return { body, state }
}

/**
 * Under wrangler dev a client that left can leave the response unread, never cancelled nor aborted; the lease's
 * stream must still end. Here the client is a reader that stops reading.
 */
describe("an edge event stream as its client takes it", () => {
  test("a client that stops taking chunks ends the stream and detaches its source", async () => {
    const { body, state } = heartbeatBody(10)
    let ended = 0
    const stream = clientStream(body, { signal: new AbortController().signal, stalledAfterMs: 60, onEnd: () => ended++ })
    const reader = stream.getReader()
    for (let taken = 0; taken < 3; taken++) expect((await reader.read()).done).toBe(false)

    await until(() => (ended > 0 ? true : undefined), { what: "the stalled stream to end" })
    expect(state.cancelled).toBe(true)
    await expect(reader.read()).rejects.toThrow(/took nothing/)
    expect(ended).toBe(1)
  })

  test("a client that keeps reading keeps the stream; an abort of its request ends it once", async () => {
    const { body, state } = heartbeatBody(10)
    let ended = 0
    const request = new AbortController()
    const stream = clientStream(body, { signal: request.signal, stalledAfterMs: 60, onEnd: () => ended++ })
    const reader = stream.getReader()
    // Well past the stall window, in chunks taken rather than time.
    for (let taken = 0; taken < 30; taken++) expect((await reader.read()).done).toBe(false)
    expect(ended).toBe(0)

    request.abort()
    expect(ended).toBe(1)
    expect(state.cancelled).toBe(true)
    await reader.cancel()
    expect(ended).toBe(1)
  })

  test("a client that cancels, and a body that ends, end the stream", async () => {
    const cancelled = heartbeatBody(10)
    let ended = 0
    await clientStream(cancelled.body, { signal: new AbortController().signal, stalledAfterMs: 60, onEnd: () => ended++ }).cancel()
    expect([ended, cancelled.state.cancelled]).toEqual([1, true])

    const finite = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(new Uint8Array([1]))
        controller.close()
      },
    })
    const chunks: Uint8Array[] = []
    for await (const chunk of clientStream(finite, { signal: new AbortController().signal, stalledAfterMs: 60, onEnd: () => ended++ })) chunks.push(chunk)
    expect(chunks).toEqual([new Uint8Array([1])])
    expect(ended).toBe(2)
  })
})
