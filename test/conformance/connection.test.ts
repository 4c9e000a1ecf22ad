import { request as httpRequest } from "node:http"
import { afterEach, describe, expect, test } from "vitest"
import { useTarget } from "../support/http.ts"
import { oneSocketAgent } from "../support/keep-alive.ts"
import { targetKinds, type Target } from "../support/targets.ts"

/** Large enough to outlast the socket's buffers, under the default body limit. */
const UNREAD_BODY = "x".repeat(1024 * 1024)

/** One keep-alive socket at a time, as `fetch` and the SDK reuse theirs; counts the sockets it had to open. */
function oneSocketClient(target: Target) {
  const { agent, opened } = oneSocketAgent()
  const send = (method: string, path: string, body?: string) =>
    new Promise<number>((resolve, reject) => {
      const request = httpRequest(target.url + path, {
        method,
        agent,
        headers: {
          ...target.authHeaders,
          // Node's client frames a DELETE body only when told its length
          ...(body !== undefined ? { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) } : {}),
        },
      })
      request.on("response", (response) => {
        response.resume()
        response.on("end", () => resolve(response.statusCode ?? 0))
        response.on("error", reject)
      })
      request.on("error", reject)
      request.end(body)
    })
  return { send, opened, close: () => agent.destroy() }
}

describe.each(targetKinds())("keep-alive connections [%s]", (kind) => {
  const target = useTarget(kind)
  const clients: { close(): void }[] = []
  afterEach(() => clients.splice(0).forEach((client) => client.close()))

  test("a request answered without reading its body leaves the socket usable for the next", async () => {
    const client = oneSocketClient(target())
    clients.push(client)
    const unread: [string, string][] = [
      ["POST", "/no/such/route"],
      ["PATCH", "/session/ses_000000000000missing000000"],
      ["POST", "/session/not-an-id/revert"],
      ["DELETE", "/global/health"],
      // refused by a middleware before any route
      ["POST", "/session?directory=%00"],
    ]
    const statuses: number[] = []
    for (const [method, path] of unread) {
      statuses.push(await client.send(method, path, `{"a":"${UNREAD_BODY}"}`))
      statuses.push(await client.send("GET", "/session"))
    }
    expect(statuses.filter((_, index) => index % 2 === 1)).toEqual(unread.map(() => 200))
    expect(statuses.filter((_, index) => index % 2 === 0).every((status) => status >= 400 && status < 500)).toBe(true)
    // every request went over the one socket: the server closed none of them
    expect(client.opened()).toBe(1)
  })
})
