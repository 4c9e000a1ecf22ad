import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { api, expectNamedError, sdk, useTarget, type ApiResponse } from "../support/http.ts"
import { targetKinds, type Target } from "../support/targets.ts"

const SECRET = "sk-test-SECRET-do-not-echo-7f3a9c"
const OAUTH_REFRESH = "refresh-SECRET-4b1e"
const OAUTH_ACCESS = "access-SECRET-91cd"

/** Every route that reads config, providers or auth, as raw text (to search for secrets) and JSON. */
async function readEverything(target: Target): Promise<Record<string, ApiResponse>> {
  const out: Record<string, ApiResponse> = {}
  for (const path of ["/config", "/config/providers", "/provider", "/provider/auth", "/doc"]) {
    out[path] = await api(target, "GET", path)
    expect(out[path]!.status, `${path}: ${out[path]!.text}`).toBe(200)
  }
  return out
}

function expectNoSecrets(responses: Record<string, ApiResponse | { text: string }>) {
  for (const [path, response] of Object.entries(responses)) {
    for (const secret of [SECRET, OAUTH_REFRESH, OAUTH_ACCESS]) expect(response.text, path).not.toContain(secret)
  }
}

const customProvider = {
  name: "My Local LLM",
  npm: "@ai-sdk/openai-compatible",
  api: "http://127.0.0.1:11434/v1",
  env: ["MYLLM_API_KEY"],
  options: { baseURL: "http://127.0.0.1:11434/v1" },
  models: {
    "small-1": { name: "Small One", limit: { context: 8192, output: 1024 }, tool_call: true },
    "big-2": { name: "Big Two", reasoning: true, modalities: { input: ["text", "image"], output: ["text"] } },
  },
}

/** The files under `directory` whose bytes contain any of `needles`. */
function filesHolding(directory: string, needles: string[]): string[] {
  const holding: string[] = []
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const bytes = readFileSync(path)
    if (needles.some((needle) => bytes.includes(needle))) holding.push(path)
  }
  return holding
}

describe.each(targetKinds())("config, providers and auth [%s]", (kind) => {
  const target = useTarget(kind)

  test("with nothing configured: the bundled catalogue lists the known providers, none connected", async () => {
    const client = sdk(target())
    const config = await client.config.get()
    expect(config.response.status).toBe(200)
    expect(config.data).toEqual({})
    const providers = await client.config.providers()
    expect(providers.data).toEqual({ providers: [], default: {} })
    const listed = (await api(target(), "GET", "/provider")).json
    expect(listed.connected).toEqual([])
    const anthropic = listed.all.find((p: { id: string }) => p.id === "anthropic")
    expect(anthropic).toMatchObject({ name: "Anthropic", env: ["ANTHROPIC_API_KEY"] })
    expect(Object.values(anthropic.models).length).toBeGreaterThan(3)
    const model = anthropic.models[listed.default.anthropic]
    expect(model.cost.input).toBeGreaterThan(0)
    expect(model.limit.context).toBeGreaterThan(100_000)
    expect(model.api.npm).toBe("@ai-sdk/anthropic")
    expect(listed.all.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(["openai", "openrouter", "groq", "lmstudio"]))
    expect((await api(target(), "GET", "/provider/auth")).json.anthropic).toEqual([{ type: "api", label: "API key" }])
  })

  test("PATCH validates, deep-merges and persists across a restart; unknown fields survive", async () => {
    const first = await api(target(), "PATCH", "/config", {
      body: { model: "myllm/big-2", share: "manual", provider: { myllm: customProvider }, futureField: { nested: [1, 2] } },
    })
    expect(first.status, first.text).toBe(200)
    expect(first.json).toMatchObject({ model: "myllm/big-2", share: "manual", futureField: { nested: [1, 2] } })

    // objects merge key by key; arrays and scalars replace
    const second = await api(target(), "PATCH", "/config", {
      body: {
        share: "disabled",
        instructions: ["AGENTS.md"],
        provider: { myllm: { name: "Renamed LLM" }, other: { models: { m: {} } } },
      },
    })
    expect(second.status, second.text).toBe(200)
    const merged = second.json
    expect(merged.share).toBe("disabled")
    expect(merged.model).toBe("myllm/big-2")
    expect(merged.instructions).toEqual(["AGENTS.md"])
    expect(merged.futureField).toEqual({ nested: [1, 2] })
    expect(merged.provider.myllm).toEqual({ ...customProvider, name: "Renamed LLM" })
    expect(merged.provider.other).toEqual({ models: { m: {} } })
    expect((await api(target(), "GET", "/config")).json).toEqual(merged)

    // bad bodies: 400 and nothing changes
    for (const body of [{ share: "sometimes" }, { model: 42 }, { provider: "nope" }, { provider: { x: { models: { m: { limit: "big" } } } } }]) {
      const bad = await api(target(), "PATCH", "/config", { body })
      expectNamedError(bad, 400, "BadRequest")
    }
    expectNamedError(await api(target(), "PATCH", "/config", { raw: "{not json" }), 400, "BadRequest")
    expectNamedError(await api(target(), "PATCH", "/config", { body: [1, 2] }), 400, "BadRequest")
    expect((await api(target(), "GET", "/config")).json).toEqual(merged)

    // the turn-ready providers: myllm has its own endpoint (no key needed); other has neither endpoint nor key
    const view = (await sdk(target()).config.providers()).data!
    expect(view.providers.map((p) => p.id)).toEqual(["myllm"])
    expect(view.default).toEqual({ myllm: "big-2" })
    const myllm = view.providers.find((p) => p.id === "myllm")!
    expect(myllm).toMatchObject({ id: "myllm", name: "Renamed LLM", source: "config", env: ["MYLLM_API_KEY"] })
    expect(Object.keys(myllm.models).sort()).toEqual(["big-2", "small-1"])
    expect(myllm.models["small-1"]).toMatchObject({
      id: "small-1",
      providerID: "myllm",
      name: "Small One",
      api: { id: "small-1", url: "http://127.0.0.1:11434/v1", npm: "@ai-sdk/openai-compatible" },
      limit: { context: 8192, output: 1024 },
      status: "active",
    })
    expect(myllm.models["big-2"]!.capabilities).toMatchObject({ reasoning: true, input: { text: true, image: true, pdf: false } })
    const listed = await api(target(), "GET", "/provider")
    expect(listed.json.connected).toEqual(["myllm"])
    expect(listed.json.all.find((p: { id: string }) => p.id === "myllm")).toEqual(myllm)
    expect(listed.json.default).toMatchObject({ myllm: "big-2", other: "m" })
    expect((await api(target(), "GET", "/provider/auth")).json).toMatchObject({
      myllm: [{ type: "api", label: "API key" }],
      other: [{ type: "api", label: "API key" }],
    })

    // /api/provider and /api/model: the same providers and models in the v2 shapes
    const v2Providers = (await api(target(), "GET", "/api/provider")).json.data as Array<Record<string, any>>
    // the connected ones, as /config/providers
    expect(v2Providers.map((p) => p.id)).toEqual(["myllm"])
    expect(v2Providers.find((p) => p.id === "myllm")).toMatchObject({
      name: "Renamed LLM",
      api: { type: "aisdk", package: "@ai-sdk/openai-compatible" },
      request: { headers: {}, body: {} },
    })
    const v2Models = (await api(target(), "GET", "/api/model")).json.data as Array<Record<string, any>>
    expect(v2Models.map((m) => `${m.providerID}/${m.id}`).sort()).toEqual(["myllm/big-2", "myllm/small-1"])
    expect(v2Models.find((m) => m.id === "small-1")).toMatchObject({
      name: "Small One",
      api: { id: "small-1", type: "aisdk", package: "@ai-sdk/openai-compatible", url: "http://127.0.0.1:11434/v1" },
      limit: { context: 8192, output: 1024 },
      status: "active",
      enabled: true,
    })
    expect(v2Models.find((m) => m.id === "big-2")!.capabilities.input).toEqual(expect.arrayContaining(["text", "image"]))

    // disabled_providers hides one
    await api(target(), "PATCH", "/config", { body: { disabled_providers: ["other"] } })
    expect((await api(target(), "GET", "/provider")).json.all.map((p: { id: string }) => p.id)).not.toContain("other")

    const before = await readEverything(target())
    await target().restart()
    const after = await readEverything(target())
    for (const path of ["/config", "/config/providers", "/provider", "/provider/auth"]) {
      expect(after[path]!.json, path).toEqual(before[path]!.json)
    }
  })

  test("credentials are stored, show as connected, are never echoed, and can be removed", async () => {
    // the endpoint-only provider of the test before connects without a key: out of the way here
    await api(target(), "PATCH", "/config", { body: { disabled_providers: ["myllm"] } })
    await api(target(), "PATCH", "/config", { body: { provider: { keyed: { models: { one: {} }, options: { apiKey: SECRET } } } } })
    const set = await api(target(), "PUT", "/auth/keyed", { body: { type: "api", key: SECRET, metadata: { note: "x" } } })
    expect(set.status, set.text).toBe(200)
    expect(set.json).toBe(true)
    expectNoSecrets({ "PUT /auth": set })

    const oauth = await sdk(target()).auth.set({
      path: { id: "anthropic" },
      body: { type: "oauth", refresh: OAUTH_REFRESH, access: OAUTH_ACCESS, expires: 1_900_000_000_000 },
    })
    expect(oauth.response.status).toBe(200)
    expect(oauth.data).toBe(true)
    const wellknown = await api(target(), "PUT", "/auth/groq", { body: { type: "wellknown", key: "ENV_NAME", token: SECRET } })
    expect(wellknown.json).toBe(true)

    // Sealed at rest: the OAuth tokens only ever went through PUT /auth, and no file of the state holds them (the
    // durable log locally, the Durable Objects' SQLite under wrangler dev), while the scan does find the apiKey the
    // client put in the config itself, which is stored as written.
    expect(filesHolding(target().stateDir, [SECRET]).length).toBeGreaterThan(0)
    expect(filesHolding(target().stateDir, [OAUTH_REFRESH, OAUTH_ACCESS])).toEqual([])

    // bad credentials: 400, nothing stored
    expectNamedError(await api(target(), "PUT", "/auth/bad", { body: { type: "api" } }), 400, "BadRequest")
    expectNamedError(await api(target(), "PUT", "/auth/bad", { body: { type: "password", key: "x" } }), 400, "BadRequest")

    const provider = await api(target(), "GET", "/provider")
    expect(provider.status).toBe(200)
    expect(provider.json.connected.sort()).toEqual(["anthropic", "groq", "keyed"])
    // a credential stored for a provider nobody knows connects nothing
    expect((await api(target(), "PUT", "/auth/nobody-knows", { body: { type: "api", key: "x" } })).json).toBe(true)
    expect((await api(target(), "GET", "/provider")).json.connected.sort()).toEqual(["anthropic", "groq", "keyed"])
    expect(provider.json.all.find((p: { id: string }) => p.id === "keyed")).toMatchObject({ source: "config" })
    expect(provider.json.all.find((p: { id: string }) => p.id === "anthropic")).toMatchObject({ source: "api" })
    expect(provider.json.all.find((p: { id: string }) => p.id === "keyed").key).toBeUndefined()
    // the provider's options never show an apiKey either (GET /config returns what the client wrote to it)
    expect(JSON.stringify(provider.json.all)).not.toContain(SECRET)
    const everything = await readEverything(target())
    const { "/config": _config, ...withoutConfig } = everything
    expectNoSecrets(withoutConfig)
    // remove the key the client put in the config itself, then nothing anywhere holds the secret
    await api(target(), "PATCH", "/config", { body: { provider: { keyed: { options: { apiKey: "placeholder" } } } } })
    expectNoSecrets(await readEverything(target()))

    // credentials survive a restart (still sealed, still connected)
    await target().restart()
    expect((await api(target(), "GET", "/provider")).json.connected.sort()).toEqual(["anthropic", "groq", "keyed"])
    expectNoSecrets(await readEverything(target()))

    const removed = await api(target(), "DELETE", "/auth/anthropic")
    expect(removed.status, removed.text).toBe(200)
    expect(removed.json).toBe(true)
    expect((await api(target(), "DELETE", "/auth/keyed")).json).toBe(true)
    // keyed still has the apiKey of its config entry
    expect((await api(target(), "GET", "/provider")).json.connected.sort()).toEqual(["groq", "keyed"])
    // removing what is not there succeeds, as upstream answers (the app's "Disconnect" relies on it)
    expect((await api(target(), "DELETE", "/auth/keyed")).json).toBe(true)
    expect((await api(target(), "DELETE", "/auth/never-stored")).json).toBe(true)
    expect((await api(target(), "DELETE", "/auth/groq")).json).toBe(true)
    expect((await api(target(), "GET", "/provider")).json.connected).toEqual(["keyed"])
  })

  test("concurrent PATCHes all land: each one's key is in the config afterwards", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`)
    const responses = await Promise.all(
      names.map((name) => api(target(), "PATCH", "/config", { body: { agent: { [name]: { description: `agent ${name}` } } } })),
    )
    for (const response of responses) expect(response.status, response.text).toBe(200)
    const agents = (await api(target(), "GET", "/config")).json.agent
    for (const name of names) expect(agents[name], name).toEqual({ description: `agent ${name}` })
  })

  test("OAuth authorize and callback: no provider here offers OAuth (400 ProviderAuthOauthMissing), unknown ones 404, bad bodies 400", async () => {
    await api(target(), "PATCH", "/config", { body: { provider: { keyonly: { models: { m: {} } } } } })
    expect((await api(target(), "GET", "/provider/auth")).json.keyonly).toEqual([{ type: "api", label: "API key" }])

    // the published SDK's call reaches the route and gets the named error
    const viaSdk = await sdk(target()).provider.oauth.authorize({ path: { id: "keyonly" }, body: { method: 0 } })
    expect(viaSdk.response.status).toBe(400)
    expect(viaSdk.error).toMatchObject({ name: "ProviderAuthOauthMissing", data: { providerID: "keyonly" } })
    const steps = [
      { step: "authorize", good: { method: 0, inputs: { region: "eu" } }, bad: { method: 0, inputs: { region: 1 } } },
      { step: "callback", good: { method: 0, code: "abc" }, bad: { method: 0, code: 5 } },
    ]
    for (const { step, good, bad } of steps) {
      const path = (providerID: string) => `/provider/${providerID}/oauth/${step}`
      for (const body of [good, { method: 7 }]) {
        const missing = await api(target(), "POST", path("keyonly"), { body })
        expectNamedError(missing, 400, "ProviderAuthOauthMissing")
        expect(missing.json.data.providerID).toBe("keyonly")
      }
      expectNamedError(await api(target(), "POST", path("never-configured"), { body: good }), 404, "NotFoundError")
      // names every object has are no provider either (found by the fuzzer: they answered 500)
      for (const inherited of ["constructor", "__proto__", "toString"]) {
        expectNamedError(await api(target(), "POST", path(inherited), { body: good }), 404, "NotFoundError")
      }
      for (const body of [bad, {}, { method: "0" }, { method: -1 }, { method: 0.5 }]) {
        expectNamedError(await api(target(), "POST", path("keyonly"), { body }), 400, "BadRequest")
      }
      expectNamedError(await api(target(), "POST", path("keyonly"), { raw: "{not json" }), 400, "BadRequest")
    }
    // nothing was stored on the way
    expect((await api(target(), "GET", "/provider")).json.connected).not.toContain("keyonly")
  })

  test("every route is in /doc", async () => {
    const doc = (await api(target(), "GET", "/doc")).json
    const operations = new Map<string, string>()
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation?.operationId) operations.set(operation.operationId, `${method.toUpperCase()} ${path}`)
      }
    }
    const expected = {
      "config.get": "GET /config",
      "config.update": "PATCH /config",
      "config.providers": "GET /config/providers",
      "provider.list": "GET /provider",
      "provider.auth": "GET /provider/auth",
      "provider.oauth.authorize": "POST /provider/{providerID}/oauth/authorize",
      "provider.oauth.callback": "POST /provider/{providerID}/oauth/callback",
      "auth.set": "PUT /auth/{providerID}",
      "auth.remove": "DELETE /auth/{providerID}",
    }
    expect(Object.fromEntries(Object.keys(expected).map((id) => [id, operations.get(id)]))).toEqual(expected)
    for (const step of ["authorize", "callback"]) {
      const operation = doc.paths[`/provider/{providerID}/oauth/${step}`].post
      expect(operation.requestBody.content["application/json"].schema.required).toEqual(["method"])
      expect(JSON.stringify(operation.responses["400"])).toContain("ProviderAuthOauthMissing")
      expect(JSON.stringify(operation.responses["404"])).toContain("NotFoundError")
    }
    expect(JSON.stringify(doc.paths["/provider/{providerID}/oauth/authorize"].post.responses["200"])).toContain("ProviderAuthAuthorization")
  })
})
