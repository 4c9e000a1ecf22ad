import { describe, expect, test } from "vitest"
import type { Message, Part } from "../../shared/schema/message.ts"
import type { Session } from "../../shared/schema/session.ts"
import { ShareView } from "../../shared/share/view.ts"

const session: Session = {
  id: "ses_1",
  slug: "calm-lake",
  projectID: "global",
  directory: "/p",
  title: "shared",
  version: "0.1.0",
  time: { created: 1, updated: 1 },
}
const user: Message = { id: "msg_1", sessionID: "ses_1", role: "user", time: { created: 1 }, agent: "build", model: { providerID: "p", modelID: "m" } }
const assistant: Message = {
  id: "msg_2",
  sessionID: "ses_1",
  role: "assistant",
  time: { created: 2 },
  parentID: "msg_1",
  modelID: "m",
  providerID: "p",
  mode: "build",
  agent: "build",
  path: { cwd: "/p", root: "/p" },
  cost: 0,
  tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
} as Message
const textPart = (messageID: string, id: string, text: string): Part => ({ id, messageID, sessionID: "ses_1", type: "text", text })

/** The view a share keeps: the same session whether it is fed the session's events or a local server's items. */
describe("ShareView", () => {
  test("events build the same view as items, streamed deltas included, in upstream's share data order", () => {
    const fromEvents = new ShareView()
    const events = [
      { type: "session.updated", properties: { sessionID: "ses_1", info: session } },
      { type: "message.updated", properties: { sessionID: "ses_1", info: assistant } },
      { type: "message.updated", properties: { sessionID: "ses_1", info: user } },
      { type: "message.part.updated", properties: { sessionID: "ses_1", part: textPart("msg_1", "prt_1", "hi"), time: 1 } },
      { type: "message.part.updated", properties: { sessionID: "ses_1", part: textPart("msg_2", "prt_2", ""), time: 2 } },
      { type: "message.part.delta", properties: { sessionID: "ses_1", messageID: "msg_2", partID: "prt_2", field: "text", delta: "Hel" } },
      { type: "message.part.delta", properties: { sessionID: "ses_1", messageID: "msg_2", partID: "prt_2", field: "text", delta: "lo" } },
      { type: "todo.updated", properties: { sessionID: "ses_1", todos: [] } },
    ]
    const changes = events.flatMap((event) => fromEvents.applyEvent(event))
    expect(changes.filter((change) => change.kind === "part")).toHaveLength(4)
    expect(fromEvents.data()).toEqual([
      { type: "session", data: session },
      { type: "message", data: user },
      { type: "part", data: textPart("msg_1", "prt_1", "hi") },
      { type: "message", data: assistant },
      { type: "part", data: textPart("msg_2", "prt_2", "Hello") },
    ])
    expect(ShareView.from(fromEvents.data()!).data()).toEqual(fromEvents.data())
    expect(fromEvents.snapshot()?.busy).toBe(true)
  })

  test("removals drop messages and parts; a delta for a part not yet seen changes nothing; no session, no data", () => {
    const view = ShareView.from([
      { type: "session", data: session },
      { type: "message", data: user },
      { type: "part", data: textPart("msg_1", "prt_1", "a") },
      { type: "part", data: textPart("msg_1", "prt_3", "b") },
    ])
    expect(view.applyEvent({ type: "message.part.delta", properties: { messageID: "msg_1", partID: "prt_9", field: "text", delta: "x" } })).toEqual([])
    expect(view.applyEvent({ type: "message.part.removed", properties: { messageID: "msg_1", partID: "prt_3" } })).toEqual([
      { kind: "part.removed", messageID: "msg_1", id: "prt_3" },
    ])
    expect(view.message("msg_1")?.parts.map((part) => part.id)).toEqual(["prt_1"])
    expect(view.applyEvent({ type: "message.removed", properties: { messageID: "msg_1" } })).toEqual([{ kind: "message.removed", id: "msg_1" }])
    expect(view.data()).toEqual([{ type: "session", data: session }])
    expect(new ShareView().data()).toBeUndefined()
  })
})
