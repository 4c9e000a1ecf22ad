import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { startLocalServer, type LocalServer } from "../../local-agent/server.ts"
import { VERSION } from "../../shared/version.ts"
import { uniqueDirectory } from "./targets.ts"

/**
 * The local server in the test's own process, for the describe block: for tests that must reach inside it
 * (its hub, its ports). Started in beforeAll on a random loopback port, stopped (and its state removed) after.
 */
export function useInProcessServer(options: { replayWindow?: number; maxSubscriberBufferBytes?: number } = {}): () => LocalServer {
  let server: LocalServer | undefined
  let state: string | undefined
  beforeAll(async () => {
    state = await mkdtemp(join(tmpdir(), "oc-in-process-"))
    server = await startLocalServer({
      port: 0,
      hostname: "127.0.0.1",
      stateDirectory: state,
      logLevel: "silent",
      replayWindow: options.replayWindow ?? 1000,
      // Never the developer's own config files: an empty home and no OPENCODE_* settings.
      configEnvironment: { env: {}, home: join(state, "home") },
      config: {
        version: VERSION,
        defaultDirectory: uniqueDirectory("default"),
        corsOrigins: [],
        maxBodyBytes: 10 * 1024 * 1024,
        heartbeatMs: 60_000,
        maxSubscriberBufferBytes: options.maxSubscriberBufferBytes ?? 4 * 1024 * 1024,
        platform: process.platform,
        modelRetries: 0,
        appUrl: "http://127.0.0.1:9",
      },
    })
  })
  afterAll(async () => {
    await server?.close()
    if (state) await rm(state, { recursive: true, force: true })
  })
  return () => {
    if (!server) throw new Error("the in-process server did not start")
    return server
  }
}
