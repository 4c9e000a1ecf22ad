import { execFile } from "node:child_process"
import { mkdir, rm, writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import { promisify } from "node:util"
import { createClient } from "@hey-api/openapi-ts"
import { describe, expect, test } from "vitest"
import { api, useTarget } from "../support/http.ts"
import { targetKinds, uniqueDirectory } from "../support/targets.ts"

/** Typed calls through the generated client: the type check fails if /doc's shapes do not fit them. */
const GENERATED_CLIENT_USE = `import { createClient } from "./gen/client"
import { sessionCreate, sessionDelete, sessionGet, sessionList, sessionUpdate } from "./gen/sdk.gen"
import type { Session } from "./gen/types.gen"

export async function roundTrip(baseUrl: string, headers: Record<string, string>, directory: string) {
  const client = createClient({ baseUrl, headers })
  const created = await sessionCreate({ client, query: { directory }, body: { title: "generated" }, throwOnError: true })
  const session: Session = created.data
  const renamed = await sessionUpdate({ client, path: { sessionID: session.id }, query: { directory }, body: { title: "renamed" }, throwOnError: true })
  const listed = await sessionList({ client, query: { directory }, throwOnError: true })
  const missing = await sessionGet({ client, path: { sessionID: "ses_000000000000missing000000" }, query: { directory } })
  const deleted = await sessionDelete({ client, path: { sessionID: session.id }, query: { directory }, throwOnError: true })
  return { session, title: renamed.data.title, listed: listed.data.map((item) => item.id), missing: missing.response.status, deleted: deleted.data }
}
`

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
  test("every declared 400 is the BadRequest NamedError that validation answers, agent-only /machine routes included", async () => {
    const doc = (await api(target(), "GET", "/doc")).json as { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> }
    const wrong: string[] = []
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const declared = operation.responses?.["400"]
        if (declared && !JSON.stringify(declared).includes('"#/components/schemas/BadRequest"')) wrong.push(`${method.toUpperCase()} ${path}`)
      }
    }
    expect(wrong).toEqual([])
    if (kind !== "local") return
    // Only the local agent serves /machine/*; what it declares is what an invalid body gets.
    expect(Object.keys(doc.paths["/machine/shell/run"] ?? {})).toEqual(["post"])
    const invalid = await api(target(), "POST", "/machine/shell/run", { body: {} })
    expect(invalid.status).toBe(400)
    expect(invalid.json).toMatchObject({ name: "BadRequest", data: { kind: "Body", issues: expect.any(Array) } })
  })
  test("a client generated from /doc with @hey-api/openapi-ts type-checks and talks to the server", { timeout: 120_000 }, async () => {
    const folder = resolve("test-output", "generated-client", kind)
    await rm(folder, { recursive: true, force: true })
    await mkdir(folder, { recursive: true })
    const doc = await api(target(), "GET", "/doc")
    await writeFile(join(folder, "openapi.json"), doc.text)
    await createClient({ input: join(folder, "openapi.json"), output: join(folder, "gen"), logs: { level: "silent" } })
    await writeFile(join(folder, "use.ts"), GENERATED_CLIENT_USE)
    await writeFile(
      join(folder, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "Bundler",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
          lib: ["ES2022", "DOM", "DOM.Iterable"],
        },
        include: ["gen", "use.ts"],
      }),
    )
    const typeCheck = await promisify(execFile)(resolve("node_modules/.bin/tsc"), ["-p", folder]).catch((error) => error)
    expect(typeCheck.stdout ?? "", "tsc on the generated client").toBe("")

    const { roundTrip } = await import(join(folder, "use.ts"))
    const directory = uniqueDirectory("generated-client")
    const result = await roundTrip(target().url, target().authHeaders, directory)
    expect(result).toMatchObject({ title: "renamed", missing: 404, deleted: true })
    expect(result.listed).toEqual([result.session.id])
  })
})
