import { jsonSchema, tool, type ToolSet } from "ai"
import type { Agent } from "../schema/app-info.ts"
import type { Config } from "../schema/config.ts"
import { ToolPermission } from "../domain/tool-permission.ts"
import { TOOLS } from "../tools.ts"

/**
 * The tools a step offers the model: every built-in tool, minus those switched off by the config's `tools`, the
 * agent's `tools` and the prompt's `tools` maps (later maps win; keys may use `*`), minus those the agent's rules
 * deny outright (and `task` in a subagent's child session). No `execute`: the turn runs each call itself, through the registry and the permission rules,
 * so it can record the call's part as it goes.
 */
export function modelTools(config: Config, agent: Agent, prompt: Record<string, boolean> | undefined, subagent: boolean): ToolSet {
  const maps = [config.tools, agent.tools, prompt].filter((map): map is Record<string, boolean> => map !== undefined)
  const set: ToolSet = {}
  for (const info of TOOLS) {
    // A subagent does its task itself: no task of its own, so subagents never nest.
    if (subagent && info.id === "task") continue
    if (!switchedOn(maps, info.id)) continue
    if (ToolPermission.deniedOutright(agent.permission, info.id)) continue
    set[info.id] = tool({ description: info.description, inputSchema: jsonSchema(info.parameters as Parameters<typeof jsonSchema>[0]) })
  }
  return set
}

/** Whether the `tools` maps (later maps win; keys may use `*`) leave the tool on. */
export function switchedOn(maps: Record<string, boolean>[], id: string): boolean {
  let on = true
  for (const map of maps) {
    for (const [pattern, value] of Object.entries(map)) if (ToolPermission.matches(id, pattern)) on = value
  }
  return on
}
