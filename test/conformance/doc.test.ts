import { describe, expect, test } from "vitest"
import { api, useTarget } from "../support/http.ts"
import { targetKinds } from "../support/targets.ts"

const OPERATIONS = [
  "global.health",
  "global.event",
  "global.dispose",
  "project.list",
  "project.current",
  "project.update",
  "session.list",
  "session.create",
  "session.status",
  "session.get",
  "session.update",
  "session.delete",
  "session.children",
  "session.fork",
  "session.abort",
  "session.messages",
  "session.message",
  "session.prompt",
  "session.prompt_async",
  "session.command",
  "session.shell",
  "session.init",
  "session.deleteMessage",
  "part.update",
  "part.delete",
  "event.subscribe",
]

describe.each(targetKinds())("OpenAPI document [%s]", (kind) => {
  const target = useTarget(kind)

  test("GET /doc is OpenAPI 3.1 with upstream's operationIds", async () => {
    const response = await api(target(), "GET", "/doc")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toMatch(/application\/json/)
    const doc = response.json
    expect(doc.openapi).toMatch(/^3\.1(\.\d+)?$/)
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) })

    const operations = new Map<string, string>()
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation?.operationId) operations.set(operation.operationId, `${method.toUpperCase()} ${path}`)
      }
    }
    for (const id of OPERATIONS) expect(operations.has(id), `operationId ${id}`).toBe(true)
    expect(operations.get("session.create")).toBe("POST /session")
    expect(operations.get("session.prompt")).toMatch(/^POST \/session\/\{[a-zA-Z]+\}\/message$/)
    expect(operations.get("event.subscribe")).toBe("GET /event")
    expect(operations.get("global.health")).toBe("GET /global/health")
    expect(operations.get("session.deleteMessage")).toMatch(/^DELETE \/session\/\{[a-zA-Z]+\}\/message\/\{[a-zA-Z]+\}$/)
    expect(operations.get("part.update")).toMatch(/^PATCH \/session\/\{[a-zA-Z]+\}\/message\/\{[a-zA-Z]+\}\/part\/\{[a-zA-Z]+\}$/)

    // schemas for the main shapes are in the document
    const schemas = Object.keys(doc.components?.schemas ?? {})
    expect(schemas).toEqual(expect.arrayContaining(["Session", "UserMessage", "AssistantMessage", "Part", "Event", "Project"]))
  })
})
