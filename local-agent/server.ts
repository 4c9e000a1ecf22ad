import { serve, type ServerType } from "@hono/node-server"
import { createNodeWebSocket } from "@hono/node-ws"
import type { Hono } from "hono"
import { createApp, type App } from "../shared/app.ts"
import { inProcessRunner } from "../shared/turn/runner.ts"
import { AgentLoop } from "../shared/turn/loop.ts"
import { memoryAssetCache } from "../shared/webapp/cache.ts"
import type { Ports, ServerConfig } from "../shared/ports.ts"
import type { MachinePublish } from "../shared/machine.ts"
import { MemoryHub } from "./hub.ts"
import { createLocalMachine } from "./machine/index.ts"
import type { ConfigEnvironment } from "./machine/config.ts"
import { machineRoutes } from "./machine-routes.ts"
import { Permissions, Questions } from "../shared/domain/questions.ts"
import { Bus } from "../shared/domain/bus.ts"
import { MemoryControlQueue } from "../shared/domain/tui-control.ts"
import { nodeResponseTransport } from "./sse.ts"
import { createLogger, type LogLevel } from "./log.ts"
import { openStore } from "./store/index.ts"
import { EdgeShares } from "./share/edge-shares.ts"
import { Sharing } from "../shared/domain/share.ts"
import { readMachineFile } from "./pair.ts"
import { fileSealer } from "./sealer.ts"
import { loopbackBrowserAuth } from "./oauth-callback.ts"

export interface LocalServerOptions {
  port: number
  hostname: string
  stateDirectory: string
  config: ServerConfig
  logLevel: LogLevel
  replayWindow: number
  /** Whose config files are read (default: this process's environment and home folder). */
  configEnvironment?: ConfigEnvironment
}

export interface LocalServer {
  url: string
  hub: MemoryHub
  /** The server's ports, for in-process tests that drive the domain directly (ask a question, call the TUI). */
  ports: Ports
  close(): Promise<void>
}

/** Builds the Node ports, serves the shared app on `hostname:port` and resolves once it listens. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const store = await openStore(options.stateDirectory)
  const clock = { now: () => Date.now() }
  const hub = new MemoryHub(options.replayWindow, clock)
  const inFlight = new Set<Promise<unknown>>()
  const publish: MachinePublish = (directory, type, properties) => Bus.publish(ports, directory, type, properties)
  const sealer = fileSealer(options.stateDirectory)
  const browserAuth = loopbackBrowserAuth()
  const local = createLocalMachine({
    stateDirectory: options.stateDirectory,
    publish,
    configEnvironment: options.configEnvironment,
    mcpCredentials: { records: store.records, sealer },
  })
  // @hono/node-ws needs the app only when a socket upgrades, after the app (which needs the ports) exists.
  const webSockets: { app?: App } = {}
  const { upgradeWebSocket, injectWebSocket } = createNodeWebSocket({
    app: { request: (...args: Parameters<App["request"]>) => webSockets.app!.request(...args) } as unknown as Hono,
  })
  const log = createLogger(options.logLevel)
  const shares = await EdgeShares.open({
    records: store.records,
    machine: () => readMachineFile(options.stateDirectory),
    data: (sessionID) => Sharing.data(ports, sessionID),
    log,
  })
  const ports: Ports = {
    config: options.config,
    sessions: store.sessions,
    projects: store.projects,
    records: store.records,
    sealer,
    tuiControl: new MemoryControlQueue(),
    // Every event passes the share sync on its way out, so a shared session's changes reach its link.
    hub: {
      publish: (directory, event) => {
        shares.observe(event)
        return hub.publish(directory, event)
      },
      subscribe: (key, lastEventId, sink) => hub.subscribe(key, lastEventId, sink),
    },
    sseTransport: nodeResponseTransport,
    upgradeWebSocket,
    machine: local.machine,
    runner: inProcessRunner,
    shareLinks: shares,
    clock,
    log,
    resolveProject: (directory) => local.machine.vcs.project(directory),
    appCache: memoryAssetCache(),
    env: (name) => process.env[name],
    fetch: globalThis.fetch,
    mcp: local.machine.mcp,
    browserAuth,
    background(task) {
      inFlight.add(task)
      task.finally(() => inFlight.delete(task)).catch(() => {})
    },
  }
  // Whoever asked a question or a permission before a restart waited in the old process: nobody waits now.
  await Questions.dispose(ports)
  await Permissions.dispose(ports)
  // A turn the previous process was running died with it: close its message and idle the session.
  await AgentLoop.recover(ports)
  const app = createApp(ports)
  app.route("/", machineRoutes(local.machine))
  webSockets.app = app
  const server = await new Promise<ServerType>((resolve, reject) => {
    const instance = serve({ fetch: app.fetch, port: options.port, hostname: options.hostname }, () => resolve(instance))
    instance.once("error", reject)
  })
  injectWebSocket(server)
  const address = server.address()
  const port = typeof address === "object" && address ? address.port : options.port
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname
  return {
    url: `http://${host}:${port}`,
    hub,
    ports,
    async close() {
      // Terminals first: their WebSockets would otherwise keep server.close() waiting.
      await local.close()
      await browserAuth.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Event streams never end on their own; closing their sockets lets close() finish.
        if ("closeAllConnections" in server) server.closeAllConnections()
      })
      await Promise.allSettled(inFlight)
      await shares.close()
      await store.close()
    },
  }
}
