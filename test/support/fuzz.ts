/**
 * A schema-driven request fuzzer: reads an OpenAPI 3.1 document (our `/doc`) and plans malformed variants of
 * every operation — odd path ids, wrong-typed and odd query values, odd directory headers, malformed JSON,
 * missing required and extra fields, wrong types, huge and negative numbers, odd unicode and traversal strings.
 *
 * Deterministic: one seed picks the variants (mulberry32), so a failure re-runs with `FUZZ_SEED=<seed>`.
 */

export type JsonSchema = {
  $ref?: string
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema | boolean
  prefixItems?: JsonSchema[]
  minItems?: number
  additionalProperties?: JsonSchema | boolean
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  pattern?: string
  minLength?: number
  minimum?: number
  exclusiveMinimum?: number
}

interface Parameter {
  in: "path" | "query" | "header"
  name: string
  required?: boolean
  schema?: JsonSchema
}

interface Operation {
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
  responses?: Record<string, unknown>
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, JsonSchema> }
}

export interface FuzzRequest {
  /** Position in the plan: with the seed, enough to find the request again. */
  index: number
  /** `METHOD /path/{template}` as /doc names it. */
  operation: string
  variant: string
  method: string
  /** Path and query, already encoded. */
  path: string
  headers: Record<string, string>
  body?: string
  /** The variant names another directory than the fixture's (or none) and no fixture id: what it stores lands elsewhere. */
  elsewhere: boolean
}

export interface FuzzFixture {
  /** Sent as `?directory=` unless a variant changes it. */
  directory: string
  /** Valid values for path parameters and body fields by name (sessionID, messageID, …). */
  ids: Record<string, string>
}

export interface FuzzPlanOptions {
  seed: number
  /** At most this many requests; every operation gets its share before any gets more. */
  budget: number
  fixture: FuzzFixture
  /** Operations not sent at all (streams, long polls). */
  skip: (operation: string) => boolean
  /** Operations that may start work (a model turn, a process, the network): only variants they must reject. */
  rejectOnly: (operation: string) => boolean
}

const METHODS = ["get", "post", "put", "patch", "delete"]

/** A small fast seeded PRNG (mulberry32): the same seed gives the same plan. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Strings that have broken servers: escapes, unicode edge cases, traversal, sizes. */
export const ODD_STRINGS: [string, string][] = [
  ["empty", ""],
  ["lone high surrogate", "a\ud800b"],
  ["lone low surrogate", "\udc00"],
  ["NUL", "a\u0000b"],
  ["RTL override", "\u202etxt.exe"],
  ["emoji", "🙂👩‍👩‍👧‍👦"],
  ["combining marks", "Z̷̢͓̈́a̸͍͑l̷g̴o"],
  ["BOM and zero-width", "\ufeff\u200b\u200d"],
  ["traversal", "../../etc/passwd"],
  ["encoded traversal", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"],
  ["backslash traversal", "..\\..\\windows\\win.ini"],
  ["absolute path", "/etc/passwd"],
  ["file URL", "file:///etc/passwd"],
  ["CRLF", "a\r\nX-Injected: 1"],
  ["quote and angle", `"'<script>alert(1)</script>`],
  ["format string", "%s%n%x{0}${process}"],
  ["long", "x".repeat(70_000)],
  ["prototype key", "__proto__"],
]

/** Ids for path parameters: well-formed but unknown, malformed, encoded, traversal (a bare `..` is left out: URL parsing resolves it to another route). */
const ODD_IDS: [string, string][] = [
  ["unknown well-formed session id", "ses_000000000000fuzz00000000"],
  ["unknown message id", "msg_000000000000fuzz00000000"],
  ["encoded traversal", "..%2f..%2fetc%2fpasswd"],
  ["double-encoded traversal", "%252e%252e%252f"],
  ["malformed percent escape", "%ZZ"],
  ["lone percent", "%"],
  ["encoded NUL", "a%00b"],
  ["encoded lone surrogate", "%ED%A0%80"],
  ["invalid UTF-8", "%FF%FE"],
  ["emoji", encodeURIComponent("🙂")],
  ["RTL override", encodeURIComponent("\u202eabc")],
  ["long", "a".repeat(4000)],
  ["spaces", "a%20b"],
  ["negative number", "-1"],
  ["huge number", "9".repeat(40)],
  ["prototype key", "__proto__"],
  ["constructor", "constructor"],
]

/** Query values for an integer or number parameter. */
const ODD_NUMBERS: [string, string][] = [
  ["not a number", "abc"],
  ["negative", "-1"],
  ["zero", "0"],
  ["fraction", "1.5"],
  ["huge", "9".repeat(40)],
  ["beyond safe integer", "9007199254740993"],
  ["exponent overflow", "1e309"],
  ["NaN", "NaN"],
  ["Infinity", "Infinity"],
  ["hex", "0x10"],
  ["empty", ""],
  ["padded", " 5 "],
]

/** Numbers in a JSON body (raw text: some are not representable as a JS number). */
const ODD_JSON_NUMBERS: [string, string][] = [
  ["negative", "-1"],
  ["huge", "1e308"],
  ["overflowing literal", "1" + "0".repeat(400)],
  ["negative huge", "-1e308"],
  ["beyond safe integer", "9007199254740993"],
  ["fraction", "0.5"],
  ["negative zero", "-0"],
]

const MALFORMED_JSON: [string, string][] = [
  ["unterminated object", '{"a": '],
  ["bare word", "not json"],
  ["trailing comma", '{"a": 1,}'],
  ["single quotes", "{'a': 1}"],
  ["empty body", ""],
  ["NaN literal", '{"a": NaN}'],
  ["raw NUL", '{"a": "\u0000"}'],
  ["deep nesting", "[".repeat(5000) + "]".repeat(5000)],
  ["invalid escape", '{"a": "\\x41"}'],
  ["BOM prefix", '\ufeff{}'],
]

const NOT_OBJECTS: [string, unknown][] = [
  ["null", null],
  ["number", 42],
  ["string", "fuzz"],
  ["array", []],
  ["boolean", true],
]

/** A path into a JSON value (object keys and array indexes). */
type ValuePath = (string | number)[]

interface Variant {
  label: string
  pathValues?: Record<string, string>
  query?: [string, string][]
  /** Replace the fixture's `?directory=` (undefined: drop it). */
  directory?: string | null
  headers?: Record<string, string>
  /** Raw body text; otherwise the sampled body. */
  body?: string
}

class SchemaTools {
  constructor(
    private readonly doc: OpenApiDoc,
    private readonly fixture: FuzzFixture,
  ) {}

  resolve(schema: JsonSchema | undefined, depth = 0): JsonSchema {
    if (!schema) return {}
    if (schema.$ref && depth < 20) {
      const name = schema.$ref.replace("#/components/schemas/", "")
      return this.resolve(this.doc.components?.schemas?.[name], depth + 1)
    }
    return schema
  }

  /** JSON types the schema allows (undefined: anything). */
  allowedTypes(schema: JsonSchema | undefined, depth = 0): Set<string> | undefined {
    const resolved = this.resolve(schema)
    const branches = resolved.anyOf ?? resolved.oneOf
    if (branches) {
      const out = new Set<string>()
      for (const branch of branches) {
        const types = this.allowedTypes(branch, depth + 1)
        if (!types) return undefined
        types.forEach((type) => out.add(type))
      }
      return out
    }
    if (resolved.const !== undefined) return new Set([jsonType(resolved.const)])
    if (resolved.enum) return new Set(resolved.enum.map(jsonType))
    if (resolved.type === undefined) return undefined
    const types = new Set(Array.isArray(resolved.type) ? resolved.type : [resolved.type])
    if (types.has("integer")) types.add("number")
    return types
  }

  /** The first branch of a union that is an object, else the first. */
  private branch(schema: JsonSchema): JsonSchema {
    const branches = schema.anyOf ?? schema.oneOf
    if (!branches?.length) return schema
    return this.resolve(branches.find((item) => this.resolve(item).type === "object") ?? branches[0])
  }

  /** A plausible valid value: required properties only, fixture ids for id-like names. */
  sample(schema: JsonSchema | undefined, name = "", depth = 0): unknown {
    const resolved = this.branch(this.resolve(schema))
    if (resolved.const !== undefined) return resolved.const
    if (resolved.enum?.length) return resolved.enum[0]
    const type = Array.isArray(resolved.type) ? resolved.type[0] : resolved.type
    if (type === "object" || resolved.properties) {
      const out: Record<string, unknown> = {}
      if (depth > 6) return out
      for (const key of resolved.required ?? []) out[key] = this.sample(resolved.properties?.[key], key, depth + 1)
      return out
    }
    if (type === "array") {
      if (resolved.prefixItems) return resolved.prefixItems.map((item) => this.sample(item, name, depth + 1))
      if ((resolved.minItems ?? 0) > 0 && typeof resolved.items === "object") return [this.sample(resolved.items, name, depth + 1)]
      return []
    }
    if (type === "integer" || type === "number") return Math.max(1, resolved.minimum ?? 1)
    if (type === "boolean") return false
    if (type === "null") return null
    if (type === "string") return this.sampleString(resolved, name)
    return "fuzz"
  }

  private sampleString(schema: JsonSchema, name: string): string {
    const id = this.fixture.ids[name]
    if (id !== undefined) return id
    if (/directory|cwd|worktree/i.test(name)) return this.fixture.directory
    if (schema.pattern?.startsWith("^ses")) return this.fixture.ids.sessionID ?? "ses_fuzz"
    if (schema.pattern?.startsWith("^msg")) return this.fixture.ids.messageID ?? "msg_fuzz"
    if (schema.pattern?.startsWith("^prt")) return this.fixture.ids.partID ?? "prt_fuzz"
    if (schema.pattern?.startsWith("^\\/")) return "/fuzz"
    if (schema.pattern?.includes("0-9a-f")) return "deadbeef"
    return "fuzz".padEnd(schema.minLength ?? 0, "z")
  }

  /** Every (value path, schema) under a schema, down to `maxDepth`, as the sampled body would hold it. */
  fields(schema: JsonSchema | undefined, maxDepth = 3, path: ValuePath = []): { path: ValuePath; schema: JsonSchema; required: boolean }[] {
    if (path.length >= maxDepth) return []
    const resolved = this.branch(this.resolve(schema))
    const out: { path: ValuePath; schema: JsonSchema; required: boolean }[] = []
    for (const [key, child] of Object.entries(resolved.properties ?? {})) {
      out.push({ path: [...path, key], schema: child, required: resolved.required?.includes(key) ?? false })
      out.push(...this.fields(child, maxDepth, [...path, key]))
    }
    const items = resolved.items
    if (resolved.type === "array" && typeof items === "object") {
      out.push({ path: [...path, 0], schema: items, required: false })
      out.push(...this.fields(items, maxDepth, [...path, 0]))
    }
    return out
  }

  /** The sampled body with `value` at `path`, ancestors filled in (sampled) where the sample lacks them. */
  withValue(root: JsonSchema | undefined, path: ValuePath, value: unknown): unknown {
    const body = structuredClone(this.sample(root)) as Record<string | number, unknown>
    let holder: Record<string | number, unknown> = body
    let schema = this.branch(this.resolve(root))
    for (const [index, key] of path.entries()) {
      const childSchema = typeof key === "number" ? (schema.items as JsonSchema) : schema.properties?.[key]
      if (index === path.length - 1) {
        holder[key] = value
        break
      }
      if (holder[key] === undefined || holder[key] === null || typeof holder[key] !== "object") {
        const nextKey = path[index + 1]
        holder[key] = typeof nextKey === "number" ? [] : (this.sample(childSchema, String(key)) ?? {})
      }
      holder = holder[key] as Record<string | number, unknown>
      schema = this.branch(this.resolve(childSchema))
    }
    return body
  }

  /** The sampled body without the property at `path`. */
  without(root: JsonSchema | undefined, path: ValuePath): unknown {
    const parent = path.slice(0, -1)
    const filled = parent.length ? this.withValue(root, parent, this.sample(this.at(root, parent), String(parent.at(-1)))) : this.sample(root)
    let holder = filled as Record<string | number, unknown>
    for (const key of parent) holder = holder[key] as Record<string | number, unknown>
    if (holder && typeof holder === "object") delete holder[path.at(-1)!]
    return filled
  }

  private at(root: JsonSchema | undefined, path: ValuePath): JsonSchema {
    let schema = this.branch(this.resolve(root))
    for (const key of path) {
      schema = this.branch(this.resolve(typeof key === "number" ? (schema.items as JsonSchema) : schema.properties?.[key]))
    }
    return schema
  }
}

function jsonType(value: unknown): string {
  if (value === null) return "null"
  if (Array.isArray(value)) return "array"
  return typeof value
}

/** A value of a JSON type the schema does not allow (undefined when it allows every type). */
function wrongValues(allowed: Set<string> | undefined): [string, unknown][] {
  if (!allowed) return []
  const candidates: [string, string, unknown][] = [
    ["string", "a string", "fuzz"],
    ["number", "a number", 12345],
    ["boolean", "a boolean", true],
    ["object", "an object", { fuzz: 1 }],
    ["array", "an array", [1, "two"]],
    ["null", "null", null],
  ]
  return candidates.filter(([type]) => !allowed.has(type)).map(([, label, value]) => [label, value])
}

/** Query values for a parameter of this schema: wrong-typed first, then odd strings. */
function queryValues(tools: SchemaTools, schema: JsonSchema | undefined): [string, string][] {
  const resolved = tools.resolve(schema)
  const type = Array.isArray(resolved.type) ? resolved.type[0] : resolved.type
  const out: [string, string][] = []
  if (type === "integer" || type === "number") out.push(...ODD_NUMBERS)
  if (resolved.enum || type === "boolean") out.push(["not in the enum", "fuzz"], ["enum value with case changed", String(resolved.enum?.[0] ?? "true").toUpperCase()])
  for (const [label, value] of ODD_STRINGS) if (value.length < 5000) out.push([label, value])
  return out
}

/** Header values Node will send (Latin-1, no control characters). */
function sendableHeader(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value)
}

function operationVariants(tools: SchemaTools, operation: Operation, rejectOnly: boolean): Variant[] {
  const variants: Variant[] = []
  const parameters = operation.parameters ?? []
  const bodySchema = operation.requestBody?.content?.["application/json"]?.schema
  const hasBody = operation.requestBody !== undefined

  for (const parameter of parameters.filter((item) => item.in === "path")) {
    for (const [label, id] of ODD_IDS) variants.push({ label: `path ${parameter.name}: ${label}`, pathValues: { [parameter.name]: id } })
  }

  if (hasBody) {
    for (const [label, raw] of MALFORMED_JSON) variants.push({ label: `malformed JSON: ${label}`, body: raw })
    variants.push({ label: "malformed JSON sent chunked", body: '{"a": ', headers: { "transfer-encoding": "chunked" } })
    const rootTypes = tools.allowedTypes(bodySchema)
    for (const [label, value] of NOT_OBJECTS) {
      if (rootTypes && !rootTypes.has(jsonType(value))) variants.push({ label: `body is ${label}`, body: JSON.stringify(value) })
    }
    const fields = tools.fields(bodySchema)
    for (const field of fields) {
      const where = field.path.join(".")
      if (field.required) variants.push({ label: `body missing required ${where}`, body: JSON.stringify(tools.without(bodySchema, field.path)) })
      for (const [label, value] of wrongValues(tools.allowedTypes(field.schema))) {
        variants.push({ label: `body ${where}: ${label} (wrong type)`, body: JSON.stringify(tools.withValue(bodySchema, field.path, value)) })
      }
      if (rejectOnly) continue
      const types = tools.allowedTypes(field.schema)
      if (!types || types.has("string")) {
        for (const [label, value] of ODD_STRINGS) variants.push({ label: `body ${where}: ${label}`, body: JSON.stringify(tools.withValue(bodySchema, field.path, value)) })
      }
      if (!types || types.has("number")) {
        const marker = "__FUZZ_NUMBER__"
        const template = JSON.stringify(tools.withValue(bodySchema, field.path, marker))
        for (const [label, raw] of ODD_JSON_NUMBERS) variants.push({ label: `body ${where}: ${label} number`, body: template.replace(`"${marker}"`, raw) })
      }
      if (types?.has("array")) {
        variants.push({ label: `body ${where}: 10,000 items`, body: JSON.stringify(tools.withValue(bodySchema, field.path, Array(10_000).fill(0))) })
      }
    }
    if (!rejectOnly) {
      variants.push({ label: "body with an extra field", body: JSON.stringify({ ...(tools.sample(bodySchema) as object), fuzzExtra: "x" }) })
      variants.push({ label: "body with __proto__", body: `{"__proto__": {"polluted": true}, ${JSON.stringify(tools.sample(bodySchema)).slice(1)}`.replace(", }", "}") })
      variants.push({ label: "body with constructor.prototype", body: JSON.stringify({ ...(tools.sample(bodySchema) as object), constructor: { prototype: { polluted: true } } }) })
      variants.push({ label: "body sent as text/plain", headers: { "content-type": "text/plain" } })
      variants.push({ label: "body without content type", headers: { "content-type": "" } })
      variants.push({ label: "body sent chunked", headers: { "transfer-encoding": "chunked" } })
    }
  } else if (!rejectOnly) {
    // A body where none is expected must be drained, not trip the next request on the socket.
    variants.push({ label: "unexpected JSON body", body: JSON.stringify({ fuzz: "x".repeat(10_000) }) })
  }

  if (!rejectOnly) {
    for (const parameter of parameters.filter((item) => item.in === "query")) {
      for (const [label, value] of queryValues(tools, parameter.schema)) {
        if (parameter.name === "directory") variants.push({ label: `query directory: ${label}`, directory: value })
        else variants.push({ label: `query ${parameter.name}: ${label}`, query: [[parameter.name, value]] })
      }
      if (parameter.name !== "directory") variants.push({ label: `query ${parameter.name} repeated`, query: [[parameter.name, "1"], [parameter.name, "2"]] })
    }
    variants.push({ label: "unknown query parameter", query: [["fuzz", "x"]] })
    variants.push({ label: "raw malformed percent escape in query", query: [["__raw__", "directory=%ZZ%"]], directory: null })
    for (const parameter of parameters.filter((item) => item.in === "header")) {
      for (const [label, value] of [...ODD_STRINGS, ["malformed percent escape", "%ZZ"] as [string, string]]) {
        if (sendableHeader(value) && value.length < 5000) variants.push({ label: `header ${parameter.name}: ${label}`, headers: { [parameter.name]: value }, directory: null })
      }
    }
  }
  return variants
}

/** Percent-encodes like encodeURIComponent, but a lone surrogate goes out as its WTF-8 bytes instead of throwing. */
function encode(value: string): string {
  return value.replace(/[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]|[^\ud800-\udfff]+/g, (part) => {
    const code = part.charCodeAt(0)
    if (part.length > 1 || code < 0xd800 || code > 0xdfff) return encodeURIComponent(part)
    return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join("")
  })
}

function buildRequest(tools: SchemaTools, fixture: FuzzFixture, method: string, pathTemplate: string, operation: Operation, variant: Variant): Omit<FuzzRequest, "index"> {
  const pathParameters = (operation.parameters ?? []).filter((item) => item.in === "path")
  let path = pathTemplate
  for (const parameter of pathParameters) {
    const value = variant.pathValues?.[parameter.name] ?? encodeURIComponent(fixture.ids[parameter.name] ?? "fuzz")
    path = path.replace(`{${parameter.name}}`, value)
  }
  const query: string[] = []
  const takesDirectory = (operation.parameters ?? []).some((item) => item.name === "directory")
  if (variant.directory !== null && takesDirectory) query.push(`directory=${encode(variant.directory ?? fixture.directory)}`)
  for (const [name, value] of variant.query ?? []) query.push(name === "__raw__" ? value : `${encode(name)}=${encode(value)}`)
  const headers: Record<string, string> = { ...variant.headers }
  let body = variant.body
  const bodySchema = operation.requestBody?.content?.["application/json"]?.schema
  if (body === undefined && operation.requestBody) body = JSON.stringify(tools.sample(bodySchema))
  if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json"
  if (headers["content-type"] === "") delete headers["content-type"]
  return {
    operation: `${method.toUpperCase()} ${pathTemplate}`,
    variant: variant.label,
    method: method.toUpperCase(),
    path: path + (query.length ? `?${query.join("&")}` : ""),
    headers,
    ...(body !== undefined ? { body } : {}),
    // a session's routes act in the session's own directory whatever the request names
    elsewhere: variant.directory !== undefined && !Object.values(fixture.ids).some((id) => path.includes(id) || body?.includes(id)),
  }
}

/** The plan: every operation's variants, shuffled by the seed, taken round-robin until the budget is spent. */
export function planFuzz(doc: OpenApiDoc, options: FuzzPlanOptions): FuzzRequest[] {
  const random = seededRandom(options.seed)
  const tools = new SchemaTools(doc, options.fixture)
  const queues: Omit<FuzzRequest, "index">[][] = []
  for (const [pathTemplate, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method]
      if (!operation) continue
      const name = `${method.toUpperCase()} ${pathTemplate}`
      if (options.skip(name)) continue
      const variants = operationVariants(tools, operation, options.rejectOnly(name))
      queues.push(shuffle(variants, random).map((variant) => buildRequest(tools, options.fixture, method, pathTemplate, operation, variant)))
    }
  }
  const plan: FuzzRequest[] = []
  for (let round = 0; plan.length < options.budget; round++) {
    let added = false
    for (const queue of queues) {
      const request = queue[round]
      if (!request || plan.length >= options.budget) continue
      plan.push({ index: plan.length, ...request })
      added = true
    }
    if (!added) break
  }
  return plan
}

/** The statuses ≥ 500 an operation may answer: the ones it declares among 501–504. */
export function declaredServerErrors(doc: OpenApiDoc, operation: string): Set<number> {
  const [method, pathTemplate] = operation.split(" ") as [string, string]
  const responses = doc.paths[pathTemplate]?.[method.toLowerCase()]?.responses ?? {}
  return new Set(Object.keys(responses).map(Number).filter((status) => status >= 501 && status <= 504))
}

/** A request as a reproducible line: seed, index, the variant and what went over the wire (long parts cut). */
export function describeRequest(seed: number, request: FuzzRequest): string {
  const cut = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…(${text.length} chars)` : text)
  const headers = Object.keys(request.headers).length ? ` headers=${cut(JSON.stringify(request.headers))}` : ""
  const body = request.body !== undefined ? ` body=${cut(JSON.stringify(request.body))}` : ""
  return `[FUZZ_SEED=${seed} #${request.index}] ${request.operation} (${request.variant}): ${request.method} ${cut(request.path)}${headers}${body}`
}
