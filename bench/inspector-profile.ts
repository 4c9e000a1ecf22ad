/**
 * A CPU profile of the Worker under `wrangler dev`, taken through its inspector port (Chrome DevTools protocol):
 * the Worker and its Durable Objects run in one workerd isolate, so one profile shows all of their JavaScript.
 */
import { writeFileSync } from "node:fs"
import WebSocket from "ws"

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

export interface InspectorProfile {
  /** Stops the profile, writes it to `file` (open it in Chrome DevTools) and returns the top self-time lines. */
  stop(file: string, top?: number): Promise<string[]>
}

export async function startInspectorProfile(inspectorPort: number): Promise<InspectorProfile> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string; title?: string }[]
  const target = targets.find((t) => !t.title?.startsWith("wrangler:")) ?? targets[0]
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`)
  const socket = new WebSocket(target.webSocketDebuggerUrl)
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject))
  let nextId = 0
  const pending = new Map<number, (result: unknown) => void>()
  socket.on("message", (raw) => {
    const message = JSON.parse(raw.toString()) as { id?: number; result?: unknown }
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
  })
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++nextId
      pending.set(id, resolve)
      socket.send(JSON.stringify({ id, method, params }))
    })
  await call("Profiler.enable")
  await call("Profiler.setSamplingInterval", { interval: 500 })
  await call("Profiler.start")
  return {
    async stop(file, top = 25) {
      const { profile } = (await call("Profiler.stop")) as { profile: { nodes: ProfileNode[] } }
      socket.close()
      writeFileSync(file, JSON.stringify(profile))
      return selfTime(profile.nodes, top)
    },
  }
}

/** Samples per function (self time), largest first, as percentages of all samples. */
function selfTime(nodes: ProfileNode[], top: number): string[] {
  const byFunction = new Map<string, number>()
  let total = 0
  for (const node of nodes) {
    const hits = node.hitCount ?? 0
    total += hits
    const { functionName, url, lineNumber } = node.callFrame
    const key = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits)
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)}%  ${key}`)
}
