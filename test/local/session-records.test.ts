import { describe, expect, test } from "vitest"
import { useInProcessServer } from "../support/in-process.ts"
import { Todos } from "../../shared/domain/todo.ts"
import { uniqueDirectory } from "../support/targets.ts"

/**
 * Records a session owns in `ports.records` go with it. Nothing writes a todo list over HTTP yet, so the test
 * plants one through the in-process server's ports and looks at the store after DELETE /session/:id.
 */
describe("local agent: a deleted session leaves no records behind", () => {
  const local = useInProcessServer()

  async function http(method: string, path: string, directory: string, body?: unknown) {
    const response = await fetch(`${local().url}${path}?directory=${encodeURIComponent(directory)}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: response.status, json: (await response.json()) as any }
  }

  test("DELETE /session/:id removes its todo list and its children's", async () => {
    const directory = uniqueDirectory("todo-delete")
    const parent = (await http("POST", "/session", directory, {})).json.id as string
    const child = (await http("POST", "/session", directory, { parentID: parent })).json.id as string
    const kept = (await http("POST", "/session", directory, {})).json.id as string
    const todos = [{ content: "write the test", status: "pending", priority: "high" }]
    for (const id of [parent, child, kept]) await local().ports.records.put(Todos.key(id), todos)
    expect(await http("GET", `/session/${child}/todo`, directory)).toEqual({ status: 200, json: todos })

    expect(await http("DELETE", `/session/${parent}`, directory)).toEqual({ status: 200, json: true })
    expect(await local().ports.records.get(Todos.key(parent))).toBeUndefined()
    expect(await local().ports.records.get(Todos.key(child))).toBeUndefined()
    expect((await http("GET", `/session/${child}/todo`, directory)).status).toBe(404)
    expect(await http("GET", `/session/${kept}/todo`, directory)).toEqual({ status: 200, json: todos })
  })
})
