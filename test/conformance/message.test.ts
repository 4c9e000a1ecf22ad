import { describe, expect, test } from "vitest"
import type { AssistantMessage, Message, Part } from "@opencode-ai/sdk/client"
import { api, expectNamedError, sdk, text, until, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

type WithParts = { info: Message; parts: Part[] }

describe.each(targetKinds())("messages [%s]", (kind) => {
  const target = useTarget(kind)

  async function newSession(label: string) {
    const directory = uniqueDirectory(label)
    const client = sdk(target(), directory)
    const session = (await client.session.create({ body: { title: label } })).data!
    return { directory, client, session }
  }

  test("noReply stores the user message and answers {info, parts}", async () => {
    const { client, session } = await newSession("noreply")
    const sent = await client.session.prompt({
      path: { id: session.id },
      body: { parts: [text("hello there")], noReply: true },
    })
    expect(sent.response.status).toBe(200)
    const { info, parts } = sent.data as unknown as WithParts
    expect(info).toMatchObject({ role: "user", sessionID: session.id, agent: "build" })
    expect(info.id).toMatch(/^msg_/)
    expect(info.time.created).toBeTypeOf("number")
    if (info.role !== "user") throw new Error("not a user message")
    expect(info.model).toMatchObject({ providerID: expect.any(String), modelID: expect.any(String) })
    expect(parts).toHaveLength(1)
    expect(parts[0]).toMatchObject({ type: "text", text: "hello there", sessionID: session.id, messageID: info.id })
    expect(parts[0]!.id).toMatch(/^prt_/)

    const listed = (await client.session.messages({ path: { id: session.id } })).data!
    expect(listed).toEqual([{ info, parts }])
    // nothing else was added: no assistant turn ran
    const status = (await client.session.status()).data!
    expect(status[session.id]).toBeUndefined()
  })

  test("agent, model, messageID and several parts are kept", async () => {
    const { client, session } = await newSession("fields")
    const messageID = "msg_00000000000aexplicitid0001"
    const sent = await api(target(), "POST", `/session/${session.id}/message`, {
      body: {
        messageID,
        agent: "plan",
        model: { providerID: "acme", modelID: "acme-1" },
        noReply: true,
        parts: [text("look at this"), { type: "file", mime: "text/plain", url: "file:///tmp/a.txt", filename: "a.txt" }],
      },
    })
    expect(sent.status, sent.text).toBe(200)
    expect(sent.json.info).toMatchObject({ id: messageID, agent: "plan", model: { providerID: "acme", modelID: "acme-1" } })
    expect(sent.json.parts.map((p: Part) => p.type)).toEqual(["text", "file"])
    expect(sent.json.parts[1]).toMatchObject({ mime: "text/plain", url: "file:///tmp/a.txt", filename: "a.txt" })
    const fetched = await client.session.message({ path: { id: session.id, messageID } })
    expect(fetched.data).toEqual(sent.json)
  })

  test("without noReply the reply is an assistant message carrying ProviderAuthError and no text", async () => {
    const { client, session } = await newSession("reply")
    const sent = await client.session.prompt({ path: { id: session.id }, body: { parts: [text("please answer")] } })
    expect(sent.response.status).toBe(200)
    const reply = sent.data as unknown as WithParts
    expect(reply.info.role).toBe("assistant")
    const info = reply.info as AssistantMessage
    expect(info.sessionID).toBe(session.id)
    expect(info.error?.name).toBe("ProviderAuthError")
    expect(typeof (info.error?.data as { message?: unknown }).message).toBe("string")
    expect(reply.parts.filter((part) => part.type === "text")).toEqual([])

    const listed = (await client.session.messages({ path: { id: session.id } })).data!
    expect(listed.map((m) => m.info.role)).toEqual(["user", "assistant"])
    const [user, assistant] = listed
    expect(info.parentID).toBe(user!.info.id)
    expect(assistant).toEqual(reply)
    expect(user!.parts).toMatchObject([{ type: "text", text: "please answer" }])

    // the turn is over: the session is idle again
    expect((await client.session.status()).data![session.id]).toBeUndefined()
  })

  test("prompt_async answers 204 and the assistant message shows up", async () => {
    const { client, session } = await newSession("async")
    const sent = await client.session.promptAsync({ path: { id: session.id }, body: { parts: [text("in the background")] } })
    expect(sent.response.status).toBe(204)
    const listed = await until(
      async () => {
        const messages = (await client.session.messages({ path: { id: session.id } })).data!
        return messages.some((m) => m.info.role === "assistant") ? messages : undefined
      },
      { what: "the assistant message" },
    )
    expect(listed.map((m) => m.info.role)).toEqual(["user", "assistant"])
    expect((listed[1]!.info as AssistantMessage).error?.name).toBe("ProviderAuthError")
    expect((listed[1]!.info as AssistantMessage).parentID).toBe(listed[0]!.info.id)
    await until(async () => ((await client.session.status()).data![session.id] === undefined ? true : undefined), {
      what: "the session to be idle",
    })

    // with noReply, prompt_async stores the user message only
    const quiet = await api(target(), "POST", `/session/${session.id}/prompt_async`, {
      body: { parts: [text("just store it")], noReply: true },
    })
    expect(quiet.status).toBe(204)
    const after = (await client.session.messages({ path: { id: session.id } })).data!
    expect(after.map((m) => m.info.role)).toEqual(["user", "assistant", "user"])
  })

  test("message list honours limit and before; single messages by id", async () => {
    const { client, session } = await newSession("paging")
    const ids: string[] = []
    for (const value of ["m1", "m2", "m3", "m4"]) {
      const sent = await client.session.prompt({ path: { id: session.id }, body: { parts: [text(value)], noReply: true } })
      ids.push(sent.data!.info.id)
    }
    const all = (await client.session.messages({ path: { id: session.id } })).data!
    expect(all.map((m) => m.info.id)).toEqual(ids)
    expect([...ids].sort()).toEqual(ids)

    const limited = await client.session.messages({ path: { id: session.id }, query: { limit: 2 } })
    expect(limited.data!.map((m) => m.info.id)).toEqual(ids.slice(2))
    // 0 is no limit, as upstream (the web app asks so when it opens a session from its home screen)
    const unlimited = await api(target(), "GET", `/session/${session.id}/message?limit=0`)
    expect(unlimited.json.map((m: { info: { id: string } }) => m.info.id)).toEqual(ids)

    const before = await api(target(), "GET", `/session/${session.id}/message?before=${ids[2]}`)
    expect(before.status, before.text).toBe(200)
    expect(before.json.map((m: WithParts) => m.info.id)).toEqual(ids.slice(0, 2))
    const page = await api(target(), "GET", `/session/${session.id}/message?before=${ids[3]}&limit=2`)
    expect(page.json.map((m: WithParts) => m.info.id)).toEqual(ids.slice(1, 3))

    const one = await client.session.message({ path: { id: session.id, messageID: ids[1]! } })
    expect(one.response.status).toBe(200)
    expect(one.data).toEqual(all[1])

    const byID = await api(target(), "GET", `/message/${ids[1]}`)
    expect(byID.status, byID.text).toBe(200)
    expect(byID.json).toEqual(all[1])

    // a message of another session is not found under this one
    const other = await newSession("paging-other")
    const wrong = await api(target(), "GET", `/session/${other.session.id}/message/${ids[1]}`)
    expectNamedError(wrong, 404, "NotFoundError")
  })

  test("the seed's POST /session/:id/prompt is an alias of /message", async () => {
    const { client, session } = await newSession("alias")
    const quiet = await api(target(), "POST", `/session/${session.id}/prompt`, {
      body: { parts: [text("via prompt")], noReply: true },
    })
    expect(quiet.status, quiet.text).toBe(200)
    expect(quiet.json.info).toMatchObject({ role: "user", agent: "build", sessionID: session.id })
    expect(quiet.json.parts).toMatchObject([{ type: "text", text: "via prompt" }])

    const replied = await api(target(), "POST", `/session/${session.id}/prompt`, { body: { parts: [text("answer me")] } })
    expect(replied.status, replied.text).toBe(200)
    expect(replied.json.info).toMatchObject({ role: "assistant", error: { name: "ProviderAuthError" } })

    const listed = (await client.session.messages({ path: { id: session.id } })).data!
    expect(listed.map((m) => m.info.role)).toEqual(["user", "user", "assistant"])
  })
})
