import { z } from "zod"

/**
 * The shapes of the config and provider routes, as the SDK's types say (v2 `Config`, `Provider`, `Model`,
 * `ProviderAuthMethod`, `Auth`). The config schema checks the known top-level fields and keeps every other
 * field as the client sent it, so fields this server does not know yet survive a round trip.
 */

const StringRecord = z.record(z.string(), z.string())
const AnyRecord = z.record(z.string(), z.unknown())
/** An object whose listed fields are checked and whose other fields are kept. */
const loose = <Shape extends z.ZodRawShape>(shape: Shape) => z.looseObject(shape)

export const ProviderModelConfig = loose({
  id: z.string().optional(),
  name: z.string().optional(),
  family: z.string().optional(),
  release_date: z.string().optional(),
  attachment: z.boolean().optional(),
  reasoning: z.boolean().optional(),
  temperature: z.boolean().optional(),
  tool_call: z.boolean().optional(),
  interleaved: z.union([z.boolean(), z.string(), z.object({ field: z.string() })]).optional(),
  cost: loose({
    input: z.number(),
    output: z.number(),
    cache_read: z.number().optional(),
    cache_write: z.number().optional(),
  }).optional(),
  limit: loose({ context: z.number(), input: z.number().optional(), output: z.number() }).optional(),
  modalities: loose({
    input: z.array(z.enum(["text", "audio", "image", "video", "pdf"])).optional(),
    output: z.array(z.enum(["text", "audio", "image", "video", "pdf"])).optional(),
  }).optional(),
  experimental: z.boolean().optional(),
  status: z.enum(["alpha", "beta", "deprecated", "active"]).optional(),
  provider: loose({ npm: z.string().optional(), api: z.string().optional() }).optional(),
  options: AnyRecord.optional(),
  headers: StringRecord.optional(),
  variants: z.record(z.string(), AnyRecord).optional(),
})
export type ProviderModelConfig = z.infer<typeof ProviderModelConfig>

export const ProviderConfig = loose({
  api: z.string().optional(),
  name: z.string().optional(),
  env: z.array(z.string()).optional(),
  id: z.string().optional(),
  npm: z.string().optional(),
  whitelist: z.array(z.string()).optional(),
  blacklist: z.array(z.string()).optional(),
  options: AnyRecord.optional(),
  models: z.record(z.string(), ProviderModelConfig).optional(),
}).meta({ ref: "ProviderConfig" })
export type ProviderConfig = z.infer<typeof ProviderConfig>

export const PermissionAction = z.enum(["allow", "ask", "deny"]).meta({ ref: "PermissionActionConfig" })
export type PermissionAction = z.infer<typeof PermissionAction>
/** One action for everything, or per permission (`edit`, `bash`, ..., `*`) an action or wildcard patterns to actions. */
export const PermissionConfig = z
  .union([PermissionAction, z.record(z.string(), z.union([PermissionAction, z.record(z.string(), PermissionAction)]))])
  .meta({ ref: "PermissionConfig" })
export type PermissionConfig = z.infer<typeof PermissionConfig>

export const Config = loose({
  $schema: z.string().optional(),
  theme: z.string().optional(),
  keybinds: AnyRecord.optional(),
  logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).optional(),
  tui: AnyRecord.optional(),
  server: AnyRecord.optional(),
  shell: z.string().optional(),
  command: z
    .record(
      z.string(),
      loose({
        template: z.string(),
        description: z.string().optional(),
        agent: z.string().optional(),
        model: z.string().optional(),
        variant: z.string().optional(),
        subtask: z.boolean().optional(),
      }),
    )
    .optional(),
  skills: AnyRecord.optional(),
  watcher: loose({ ignore: z.array(z.string()).optional() }).optional(),
  snapshot: z.boolean().optional(),
  plugin: z.array(z.union([z.string(), z.tuple([z.string(), AnyRecord])])).optional(),
  share: z.enum(["manual", "auto", "disabled"]).optional(),
  autoshare: z.boolean().optional(),
  autoupdate: z.union([z.boolean(), z.literal("notify")]).optional(),
  disabled_providers: z.array(z.string()).optional(),
  enabled_providers: z.array(z.string()).optional(),
  model: z.string().optional(),
  small_model: z.string().optional(),
  default_agent: z.string().optional(),
  subagent_depth: z.number().optional(),
  username: z.string().optional(),
  mode: z.record(z.string(), AnyRecord).optional(),
  agent: z.record(z.string(), AnyRecord).optional(),
  provider: z.record(z.string(), ProviderConfig).optional(),
  mcp: z.record(z.string(), AnyRecord).optional(),
  formatter: z.union([z.boolean(), z.record(z.string(), AnyRecord)]).optional(),
  lsp: z.union([z.boolean(), z.record(z.string(), AnyRecord)]).optional(),
  instructions: z.array(z.string()).optional(),
  layout: z.enum(["auto", "stretch"]).optional(),
  permission: PermissionConfig.optional(),
  tools: z.record(z.string(), z.boolean()).optional(),
  attachment: AnyRecord.optional(),
  enterprise: loose({ url: z.string().optional() }).optional(),
  tool_output: AnyRecord.optional(),
  compaction: AnyRecord.optional(),
  experimental: AnyRecord.optional(),
}).meta({ ref: "Config" })
export type Config = z.infer<typeof Config>

const Modalities = z.object({
  text: z.boolean(),
  audio: z.boolean(),
  image: z.boolean(),
  video: z.boolean(),
  pdf: z.boolean(),
})
const Cost = z.object({ input: z.number(), output: z.number(), cache: z.object({ read: z.number(), write: z.number() }) })

export const Model = z
  .object({
    id: z.string(),
    providerID: z.string(),
    api: z.object({ id: z.string(), url: z.string(), npm: z.string() }),
    name: z.string(),
    family: z.string().optional(),
    capabilities: z.object({
      temperature: z.boolean(),
      reasoning: z.boolean(),
      attachment: z.boolean(),
      toolcall: z.boolean(),
      input: Modalities,
      output: Modalities,
      interleaved: z.union([z.boolean(), z.object({ field: z.string() })]),
    }),
    cost: Cost.extend({ experimentalOver200K: Cost.optional() }),
    limit: z.object({ context: z.number(), input: z.number().optional(), output: z.number() }),
    status: z.enum(["alpha", "beta", "deprecated", "active"]),
    options: AnyRecord,
    headers: StringRecord,
    release_date: z.string(),
    variants: z.record(z.string(), AnyRecord).optional(),
  })
  .meta({ ref: "Model" })
export type Model = z.infer<typeof Model>

export const Provider = z
  .object({
    id: z.string(),
    name: z.string(),
    source: z.enum(["env", "config", "custom", "api"]),
    env: z.array(z.string()),
    key: z.string().optional(),
    options: AnyRecord,
    models: z.record(z.string(), Model),
  })
  .meta({ ref: "Provider" })
export type Provider = z.infer<typeof Provider>

export const ProviderAuthMethod = z
  .object({ type: z.enum(["oauth", "api"]), label: z.string(), prompts: z.array(AnyRecord).optional() })
  .meta({ ref: "ProviderAuthMethod" })
export type ProviderAuthMethod = z.infer<typeof ProviderAuthMethod>

export const ConfigProviders = z.object({ providers: z.array(Provider), default: StringRecord })
export const ProviderList = z.object({ all: z.array(Provider), default: StringRecord, connected: z.array(z.string()) })
export const ProviderAuthMethods = z.record(z.string(), z.array(ProviderAuthMethod))

export const Auth = z
  .discriminatedUnion("type", [
    z.object({
      type: z.literal("oauth"),
      refresh: z.string(),
      access: z.string(),
      expires: z.number(),
      accountId: z.string().optional(),
      enterpriseUrl: z.string().optional(),
    }),
    z.object({ type: z.literal("api"), key: z.string(), metadata: StringRecord.optional() }),
    z.object({ type: z.literal("wellknown"), key: z.string(), token: z.string() }),
  ])
  .meta({ ref: "Auth" })
export type Auth = z.infer<typeof Auth>

export const ProviderParam = z.object({ providerID: z.string().min(1).max(256) })

/** How a v2 provider or model is reached: an AI SDK package (the only kind this server configures). */
const ApiV2 = z.object({ type: z.literal("aisdk"), package: z.string(), url: z.string().optional(), settings: AnyRecord.optional() })
const RequestV2 = z.object({ headers: StringRecord, body: AnyRecord })

/** The `/api/provider` shape (v2 SDK `ProviderV2Info`). */
export const ProviderV2Info = z
  .object({ id: z.string(), name: z.string(), disabled: z.boolean().optional(), api: ApiV2, request: RequestV2 })
  .meta({ ref: "ProviderV2Info" })
export type ProviderV2Info = z.infer<typeof ProviderV2Info>

/** The `/api/model` shape (v2 SDK `ModelV2Info`). */
export const ModelV2Info = z
  .object({
    id: z.string(),
    providerID: z.string(),
    family: z.string().optional(),
    name: z.string(),
    api: ApiV2.extend({ id: z.string() }),
    capabilities: z.object({ tools: z.boolean(), input: z.array(z.string()), output: z.array(z.string()) }),
    request: RequestV2.extend({ variant: z.string().optional() }),
    variants: z.array(RequestV2.extend({ id: z.string() })),
    time: z.object({ released: z.number() }),
    cost: z.array(Cost),
    status: z.enum(["alpha", "beta", "deprecated", "active"]),
    enabled: z.boolean(),
    limit: z.object({ context: z.number(), input: z.number().optional(), output: z.number() }),
  })
  .meta({ ref: "ModelV2Info" })
export type ModelV2Info = z.infer<typeof ModelV2Info>
