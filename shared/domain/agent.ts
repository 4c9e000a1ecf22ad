import type { Ports } from "../ports.ts"
import { BadRequestError } from "../error.ts"
import { Configs } from "./config.ts"
import type { Agent, AgentV2Info } from "../schema/app-info.ts"

type Action = "allow" | "deny" | "ask"
type Rule = Agent["permission"][number]
type Json = Record<string, unknown>

const ACTIONS = new Set<string>(["allow", "deny", "ask"])
const isAction = (value: unknown): value is Action => typeof value === "string" && ACTIONS.has(value)
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * A section of the directory's config (Configs.get: its files, then the stored layer), read defensively: a
 * section the schema does not check closely is skipped where malformed rather than failing the route.
 */
export async function readConfigSection(ports: Ports, directory: string, section: string): Promise<Json> {
  const value = (await readConfig(ports, directory))[section]
  return isObject(value) ? value : {}
}

async function readConfig(ports: Ports, directory: string): Promise<Json> {
  return (await Configs.get(ports, directory)) as Json
}

/** A permission config (`"allow"`, or `{edit: "deny", bash: {"git *": "allow"}}`) as a ruleset. */
export function permissionRules(config: unknown): Rule[] {
  if (isAction(config)) return [{ permission: "*", pattern: "*", action: config }]
  if (!isObject(config)) return []
  const rules: Rule[] = []
  for (const [permission, value] of Object.entries(config)) {
    if (isAction(value)) rules.push({ permission, pattern: "*", action: value })
    else if (isObject(value)) {
      for (const [pattern, action] of Object.entries(value)) {
        if (isAction(action)) rules.push({ permission, pattern, action })
      }
    }
  }
  return rules
}

/** Upstream's defaults for every agent; later rules win, as upstream evaluates them. */
const DEFAULTS = permissionRules({
  "*": "allow",
  doom_loop: "ask",
  external_directory: { "*": "ask" },
  question: "deny",
  plan_enter: "deny",
  plan_exit: "deny",
  read: { "*": "allow", "*.env": "ask", "*.env.*": "ask", "*.env.example": "allow" },
})

/** The built-ins; `global` (the config's own `permission` rules) follows each one's rules, as upstream merges them. */
function builtIns(global: Rule[]): Agent[] {
  return [
    {
      name: "build",
      description: "The default agent. Executes tools based on configured permissions.",
      mode: "primary",
      native: true,
      builtIn: true,
      permission: [...DEFAULTS, ...permissionRules({ question: "allow", plan_enter: "allow" }), ...global],
      options: {},
    },
    {
      name: "plan",
      description: "Plan mode. Disallows all edit tools.",
      mode: "primary",
      native: true,
      builtIn: true,
      permission: [
        ...DEFAULTS,
        ...permissionRules({ question: "allow", plan_exit: "allow", edit: { "*": "deny", ".opencode/plans/*.md": "allow" } }),
        ...global,
      ],
      options: {},
    },
    {
      name: "general",
      description:
        "General-purpose agent for researching complex questions and executing multi-step tasks. " +
        "Use this agent to execute multiple units of work in parallel.",
      mode: "subagent",
      native: true,
      builtIn: true,
      permission: [...DEFAULTS, ...permissionRules({ todoread: "deny", todowrite: "deny" }), ...global],
      options: {},
    },
  ]
}

const str = (value: unknown) => (typeof value === "string" ? value : undefined)
const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined)
const bool = (value: unknown) => (typeof value === "boolean" ? value : undefined)

export function parseModel(value: unknown): Agent["model"] {
  const model = str(value)
  const slash = model?.indexOf("/") ?? -1
  if (!model || slash <= 0 || slash === model.length - 1) return undefined
  return { providerID: model.slice(0, slash), modelID: model.slice(slash + 1) }
}

/** Drops undefined fields so the JSON has only what is set. */
export function defined<T extends Json>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/** A config entry applied over `base` (a built-in of the same name, or a fresh agent with the global rules). */
function fromConfig(name: string, entry: Json, base: Agent | undefined, global: Rule[]): Agent {
  const mode = str(entry.mode)
  const options = isObject(entry.options) ? entry.options : {}
  return defined<Json>({
    ...(base ?? { name, mode: "all" as const, native: false, builtIn: false, permission: [...DEFAULTS, ...global], options: {} }),
    ...defined({
      description: str(entry.description),
      mode: mode === "primary" || mode === "subagent" || mode === "all" ? mode : undefined,
      hidden: bool(entry.hidden),
      topP: num(entry.top_p),
      temperature: num(entry.temperature),
      color: str(entry.color),
      model: parseModel(entry.model),
      variant: str(entry.variant),
      prompt: str(entry.prompt),
      steps: num(entry.steps) ?? num(entry.maxSteps),
      tools: isObject(entry.tools) ? (Object.fromEntries(Object.entries(entry.tools).filter(([, on]) => typeof on === "boolean")) as Record<string, boolean>) : undefined,
    }),
    name,
    permission: [...(base?.permission ?? [...DEFAULTS, ...global]), ...permissionRules(entry.permission)],
    options: { ...(base?.options ?? {}), ...options },
  }) as Agent
}

/** The built-in agents, then those of the config's `agent` section; `disable: true` removes one. */
function agentsOf(config: Json): Agent[] {
  const global = permissionRules(config.permission)
  const agents = new Map(builtIns(global).map((agent) => [agent.name, agent] as const))
  for (const [name, entry] of Object.entries(isObject(config.agent) ? config.agent : {})) {
    if (!isObject(entry)) continue
    if (entry.disable === true) {
      agents.delete(name)
      continue
    }
    agents.set(name, fromConfig(name, entry, agents.get(name), global))
  }
  return [...agents.values()]
}

export namespace Agents {
  /** The built-in agents, then those of the config's `agent` section; `disable: true` removes one. */
  export async function list(ports: Ports, directory: string): Promise<Agent[]> {
    return agentsOf(await readConfig(ports, directory))
  }

  /** The named agent, else the config's `default_agent`, else build; 400 for a name no agent has. */
  export async function resolve(ports: Ports, directory: string, name: string | undefined): Promise<Agent> {
    return pick(await readConfig(ports, directory), name)
  }

  /** As `resolve`, from a config already read. */
  export function pick(config: Json, name: string | undefined): Agent {
    const agents = agentsOf(config)
    const wanted = name ?? str(config.default_agent) ?? "build"
    const agent = agents.find((candidate) => candidate.name === wanted) ?? (name === undefined ? agents.find((a) => a.name === "build") : undefined)
    if (!agent) throw new BadRequestError({ message: `Unknown agent: ${wanted}`, kind: "Query" })
    return agent
  }

  /**
   * An agent in `/api/agent`'s v2 shape, as upstream migrates a v1 agent: the prompt is `system`, options with
   * temperature and top_p go in the request body, and each rule becomes `{action, resource, effect}`.
   */
  export function toV2(agent: Agent): AgentV2Info {
    const body = defined({ ...agent.options, temperature: agent.temperature, top_p: agent.topP })
    const steps = agent.steps !== undefined && Number.isInteger(agent.steps) && agent.steps > 0 ? agent.steps : undefined
    return defined({
      id: agent.name,
      model: agent.model && defined({ id: agent.model.modelID, providerID: agent.model.providerID, variant: agent.variant }),
      request: { headers: {}, body },
      system: agent.prompt,
      description: agent.description,
      mode: agent.mode,
      hidden: agent.hidden ?? false,
      color: agent.color,
      steps,
      permissions: agent.permission.map((rule) => ({ action: rule.permission, resource: rule.pattern, effect: rule.action })),
    })
  }
}
