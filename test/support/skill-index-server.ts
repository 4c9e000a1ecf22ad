import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

/** A loopback server for `skills.urls`: its files by path (`/index.json`, `/<skill>/SKILL.md`…), the paths asked for. */
export interface SkillIndexServer {
  url: string
  files: Map<string, string>
  requested: string[]
  close(): Promise<void>
}

/** Serves `files` (changeable while it runs); anything else is 404. */
export async function startSkillIndexServer(files: Record<string, string>): Promise<SkillIndexServer> {
  const served = new Map(Object.entries(files))
  const requested: string[] = []
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://loopback").pathname
    requested.push(path)
    const body = served.get(path)
    response.writeHead(body === undefined ? 404 : 200, { "content-type": path.endsWith(".json") ? "application/json" : "text/plain" })
    response.end(body ?? "not found")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files: served,
    requested,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** An `index.json` listing these skills. */
export function skillIndex(skills: { name: string; files: string[]; version?: string }[]): string {
  return JSON.stringify({ skills })
}
