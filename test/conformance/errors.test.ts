import { request as httpRequest } from "node:http"
import { describe, expect, test } from "vitest"
import { api, expectNamedError, sdk, text, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

const MAX_BODY = 2048

/** Everything a rejected request could have changed, read back for comparison. */
async function snapshot(target: Target, directory: string, sessionID: string) {
  const [list, session, messages, status] = await Promise.all([
    api(target, "GET", "/session", { directory }),
    api(target, "GET", `/session/${sessionID}`),
    api(target, "GET", `/session/${sessionID}/message`),
    api(target, "GET", "/session/status", { directory }),
  ])
  return { list: list.json, session: session.json, messages: messages.json, status: status.json }
}

describe.each(targetKinds())("bad input, unknown ids and limits [%s]", (kind) => {
  const target = useTarget(kind, { maxBodyBytes: MAX_BODY })

  async function fixture(label: string) {
    const directory = uniqueDirectory(label)
    const client = sdk(target(), directory)
    const session = (await client.session.create({ body: { title: "fixture" } })).data!
    await client.session.prompt({ path: { id: session.id }, body: { parts: [text("existing")], noReply: true } })
    return { directory, session }
  }

  const badRequests: [string, (sessionID: string) => [string, string, { raw?: string; body?: unknown }]][] = [
    ["malformed JSON on create", () => ["POST", "/session", { raw: '{"title": "unterminated' }]],
    ["malformed JSON on prompt", (id) => ["POST", `/session/${id}/message`, { raw: "{parts: [}" }]],
    ["malformed JSON on update", (id) => ["PATCH", `/session/${id}`, { raw: "not json at all" }]],
    ["a number as title on create", () => ["POST", "/session", { body: { title: 5 } }]],
    ["a number as title on update", (id) => ["PATCH", `/session/${id}`, { body: { title: 5 } }]],
    ["a number as parentID", () => ["POST", "/session", { body: { parentID: 42 } }]],
    ["an empty parts array", (id) => ["POST", `/session/${id}/message`, { body: { parts: [] } }]],
    ["no parts at all", (id) => ["POST", `/session/${id}/message`, { body: { noReply: true } }]],
    ["an unknown part type", (id) => ["POST", `/session/${id}/message`, { body: { parts: [{ type: "bogus", text: "x" }], noReply: true } }]],
    ["a text part without text", (id) => ["POST", `/session/${id}/message`, { body: { parts: [{ type: "text" }], noReply: true } }]],
    ["noReply as a string", (id) => ["POST", `/session/${id}/message`, { body: { parts: [text("x")], noReply: "yes" } }]],
    ["a JSON array as the body", (id) => ["POST", `/session/${id}/message`, { body: [text("x")] }]],
    ["prompt_async with a bad part", (id) => ["POST", `/session/${id}/prompt_async`, { body: { parts: [{ type: 7 }] } }]],
    ["the /prompt alias with empty parts", (id) => ["POST", `/session/${id}/prompt`, { body: { parts: [] } }]],
  ]

  test.each(badRequests)("400 BadRequest for %s, and nothing changes", async (_name, build) => {
    const { directory, session } = await fixture("bad-input")
    const before = await snapshot(target(), directory, session.id)
    const [method, path, body] = build(session.id)
    const response = await api(target(), method, path, { directory, ...body })
    expectNamedError(response, 400, "BadRequest")
    expect(response.headers.get("content-type")).toMatch(/application\/json/)
    const after = await snapshot(target(), directory, session.id)
    expect(after).toEqual(before)
  })

  test("the SDK sees a 400 as an error result", async () => {
    const { session } = await fixture("sdk-400")
    const result = await sdk(target()).session.prompt({ path: { id: session.id }, body: { parts: [] } })
    expect(result.response.status).toBe(400)
    expect(result.error).toMatchObject({ name: "BadRequest", data: { message: expect.any(String) } })
  })

  test("unknown ids are 404 NotFoundError", async () => {
    const { session } = await fixture("unknown-ids")
    const missingSession = "ses_0000000000000000000000nope"
    const missingMessage = "msg_0000000000000000000000nope"
    const cases: [string, string, unknown?][] = [
      ["GET", `/session/${missingSession}`],
      ["PATCH", `/session/${missingSession}`, { title: "x" }],
      ["DELETE", `/session/${missingSession}`],
      ["GET", `/session/${missingSession}/children`],
      ["GET", `/session/${missingSession}/message`],
      ["POST", `/session/${missingSession}/message`, { parts: [text("x")], noReply: true }],
      ["POST", `/session/${missingSession}/prompt_async`, { parts: [text("x")] }],
      ["POST", `/session/${missingSession}/fork`, {}],
      ["POST", `/session/${missingSession}/abort`],
      ["GET", `/session/${session.id}/message/${missingMessage}`],
      ["GET", `/session/${missingSession}/message/${missingMessage}`],
      ["GET", `/message/${missingMessage}`],
      ["PATCH", "/project/no-such-project", { name: "x" }],
    ]
    for (const [method, path, body] of cases) {
      const response = await api(target(), method, path, body === undefined ? {} : { body })
      expect({ method, path, status: response.status, name: response.json?.name }, response.text).toEqual({
        method,
        path,
        status: 404,
        name: "NotFoundError",
      })
      expect(typeof response.json.data?.message).toBe("string")
    }
  })

  test("an unknown route is a 404 NamedError", async () => {
    for (const [method, path] of [
      ["GET", "/no/such/route"],
      ["POST", "/session/ses_x/no-such-action"],
      ["DELETE", "/global/health"],
    ] as const) {
      const response = await api(target(), method, path)
      expectNamedError(response, 404, "NotFoundError")
    }
  })

  test("a body over the limit is 413 PayloadTooLargeError and nothing is stored", async () => {
    const { directory, session } = await fixture("too-large")
    const before = await snapshot(target(), directory, session.id)
    const big = "x".repeat(MAX_BODY * 2)

    const create = await api(target(), "POST", "/session", { directory, body: { title: big.slice(0, 1000), metadata: { big } } })
    expectNamedError(create, 413, "PayloadTooLargeError")
    const prompt = await api(target(), "POST", `/session/${session.id}/message`, {
      directory,
      body: { parts: [text(big)], noReply: true },
    })
    expectNamedError(prompt, 413, "PayloadTooLargeError")
    const update = await api(target(), "PATCH", `/session/${session.id}`, { directory, body: { metadata: { big } } })
    expectNamedError(update, 413, "PayloadTooLargeError")

    expect(await snapshot(target(), directory, session.id)).toEqual(before)

    // a body under the limit still works
    const small = await api(target(), "POST", `/session/${session.id}/message`, {
      directory,
      body: { parts: [text("y".repeat(MAX_BODY / 4))], noReply: true },
    })
    expect(small.status, small.text).toBe(200)
  })

  test("a chunked body over the limit (no Content-Length) is 413 too", async () => {
    const { directory, session } = await fixture("too-large-chunked")
    const before = await snapshot(target(), directory, session.id)
    const payload = Buffer.from(JSON.stringify({ parts: [text("z".repeat(MAX_BODY * 4))], noReply: true }))
    // node:http, not fetch: the server may answer 413 and close before the whole body is sent, and only the
    // answer matters here (fetch would report the aborted upload instead of the response).
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${target().url}/session/${session.id}/message`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...target().authHeaders },
      })
      let answered = false
      request.on("response", (response) => {
        answered = true
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => (body += chunk))
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
        response.on("error", reject)
      })
      request.on("error", (error) => {
        if (!answered) reject(error)
      })
      request.setTimeout(15_000, () => request.destroy(new Error("no answer to the chunked request within 15 s")))
      for (let offset = 0; offset < payload.length; offset += 1024) request.write(payload.subarray(offset, offset + 1024))
      request.end()
    })
    expect(answer.status, answer.body).toBe(413)
    expect(JSON.parse(answer.body).name).toBe("PayloadTooLargeError")
    // the server is fine afterwards: a write (not retried by any proxy) succeeds
    const next = await api(target(), "POST", "/session", { directory: uniqueDirectory("after-chunked"), body: { title: "next" } })
    expect(next.status, next.text).toBe(200)
    expect(await snapshot(target(), directory, session.id)).toEqual(before)
  })
})
