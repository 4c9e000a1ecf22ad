import { describe, expect, test } from "vitest"
import { api, sdk, text, useTarget } from "../support/http.ts"
import { connect } from "../support/sse.ts"
import { targetKinds, uniqueDirectory, type Target } from "../support/targets.ts"

/** What a client can read back about a directory: its sessions, each one's messages, and single lookups. */
async function readAll(target: Target, directory: string) {
  const sessions = await api(target, "GET", "/session", { directory })
  expect(sessions.status).toBe(200)
  const messages: Record<string, unknown> = {}
  const single: Record<string, unknown> = {}
  for (const session of sessions.json as { id: string }[]) {
    const list = await api(target, "GET", `/session/${session.id}/message`, { directory })
    expect(list.status).toBe(200)
    messages[session.id] = list.json
    const one = await api(target, "GET", `/session/${session.id}`)
    single[session.id] = one.json
    for (const message of list.json as { info: { id: string } }[]) {
      const byID = await api(target, "GET", `/message/${message.info.id}`)
      expect(byID.status).toBe(200)
      single[message.info.id] = byID.json
    }
  }
  const project = await api(target, "GET", "/project/current", { directory })
  return { sessions: sessions.json, messages, single, project: project.json }
}

describe.each(targetKinds())("persistence across a restart [%s]", (kind) => {
  const target = useTarget(kind)

  test("sessions, messages, titles, children and deletions survive", async () => {
    const directory = uniqueDirectory("persist")
    const client = sdk(target(), directory)
    const parent = (await client.session.create({ body: { title: "to keep" } })).data!
    const child = (await client.session.create({ body: { title: "child", parentID: parent.id } })).data!
    const doomed = (await client.session.create({ body: { title: "to delete" } })).data!
    await client.session.prompt({ path: { id: parent.id }, body: { parts: [text("first words")], noReply: true } })
    await client.session.prompt({ path: { id: parent.id }, body: { parts: [text("and a reply please")] } })
    await client.session.prompt({ path: { id: child.id }, body: { parts: [text("child talk")], noReply: true } })
    await client.session.prompt({ path: { id: doomed.id }, body: { parts: [text("soon gone")], noReply: true } })
    // history edits: a message deleted, a part deleted
    const dropped = (await client.session.prompt({ path: { id: child.id }, body: { parts: [text("to drop")], noReply: true } })).data!
    expect((await api(target(), "DELETE", `/session/${child.id}/message/${dropped.info.id}`)).json).toBe(true)
    const trimmed = (await client.session.prompt({ path: { id: child.id }, body: { parts: [text("kept part"), text("dropped part")], noReply: true } })).data!
    expect((await api(target(), "DELETE", `/session/${child.id}/message/${trimmed.info.id}/part/${trimmed.parts[1]!.id}`)).json).toBe(true)
    await client.session.update({ path: { id: parent.id }, body: { title: "kept and renamed" } })
    await client.session.delete({ path: { id: doomed.id } })
    const project = (await client.project.current()).data!
    const renamed = await api(target(), "PATCH", `/project/${encodeURIComponent(project.id)}`, { body: { name: "persisted name" } })
    expect(renamed.status).toBe(200)

    const before = await readAll(target(), directory)
    expect(before.sessions.map((s: { id: string }) => s.id).sort()).toEqual([parent.id, child.id].sort())
    expect((before.messages[parent.id] as unknown[]).length).toBe(3)
    const childMessages = before.messages[child.id] as { info: { id: string }; parts: { text?: string }[] }[]
    expect(childMessages.map((m) => m.parts.map((part) => part.text))).toEqual([["child talk"], ["kept part"]])

    await target().restart()

    const after = await readAll(target(), directory)
    expect(after).toEqual(before)
    expect(after.project.name).toBe("persisted name")
    expect((await api(target(), "GET", `/session/${doomed.id}`)).status).toBe(404)
    expect((await sdk(target(), directory).session.children({ path: { id: parent.id } })).data!.map((s) => s.id)).toEqual([
      child.id,
    ])

    // the restarted server takes new writes and events as before
    const stream = await connect(`${target().url}/event?directory=${encodeURIComponent(directory)}`, {
      headers: target().authHeaders,
    })
    try {
      const again = sdk(target(), directory)
      const sent = await again.session.prompt({ path: { id: parent.id }, body: { parts: [text("after restart")], noReply: true } })
      expect(sent.response.status).toBe(200)
      await stream.waitForEvent("message.updated", (p) => p.info.id === sent.data!.info.id)
      const messages = (await again.session.messages({ path: { id: parent.id } })).data!
      expect(messages.map((m) => m.info.id)).toEqual([
        ...(before.messages[parent.id] as { info: { id: string } }[]).map((m) => m.info.id),
        sent.data!.info.id,
      ])
    } finally {
      stream.close()
    }
  })
})
