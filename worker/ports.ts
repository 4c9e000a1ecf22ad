import { waitUntil } from "cloudflare:workers"
import { upgradeWebSocket } from "./websocket.ts"
import type { Logger, Ports } from "../shared/ports.ts"
import type { Machine } from "../shared/machine.ts"
import { isPrivateHost } from "../shared/net.ts"
import { DEFAULT_APP_URL } from "../shared/webapp/webapp.ts"
import { cacheApiAssetCache } from "./app-cache.ts"
import { webStreamTransport } from "../shared/event/sse.ts"
import { VERSION } from "../shared/version.ts"
import { corsOrigins, heartbeatMs, numberVar, sseBufferBytes, type Env } from "./env.ts"
import { edgeShareLinks } from "./share-links.ts"
import { DurableObjectHub } from "./hub.ts"
import { Objects, type HostSession } from "./objects.ts"
import { machineObjectName, objectName } from "./names.ts"
import { limitTerminals } from "./limits/terminals.ts"
import { tenantLimits } from "./limits/config.ts"
import { rememberedProjectResolver } from "./project.ts"
import { createRemoteMachine } from "./remote-machine.ts"
import { McpPool } from "../shared/mcp/pool.ts"
import { remoteConnector } from "../shared/mcp/remote.ts"
import { McpOAuth } from "../shared/mcp/oauth.ts"
import { webCryptoSealer } from "./sealer.ts"
import { durableProjectStore, durableRecordStore, durableSessionStore, durableTuiControl } from "./store.ts"

export const log: Logger = {
  info: (message, extra) => console.log(JSON.stringify({ level: "info", message, ...extra })),
  warn: (message, extra) => console.warn(JSON.stringify({ level: "warn", message, ...extra })),
  error: (message, extra) => console.error(JSON.stringify({ level: "error", message, ...extra })),
}

/**
 * The edge's ports for one tenant. Its machine is the one paired with the tenant, reached through the tunnel
 * (503 MachineUnavailable while none is connected), which also names the directories' projects.
 */
export function createWorkerPorts(
  env: Env,
  tenant: string,
  options: { passwordAuth: boolean; host?: HostSession; unlimited?: boolean },
): Ports {
  const objects = new Objects(env, tenant, options.host)
  const password = env.OPENCODE_SERVER_PASSWORD
  const records = durableRecordStore(objects)
  const remote = createRemoteMachine(tenant, () => env.MACHINES.getByName(machineObjectName(tenant)))
  const machine = options.unlimited
    ? remote
    : limitTerminals(remote, () => env.GLOBAL.getByName(objectName(tenant, { kind: "global" })), tenantLimits(env).terminals)
  const fetch = relayingFetch(machine)
  const sealer = webCryptoSealer(env.OPENCODE_SECRETS_KEY, tenant)
  const credentials = { records, sealer }
  return {
    config: {
      version: VERSION,
      defaultDirectory: env.OPENCODE_DEFAULT_DIRECTORY || "/",
      auth: password && options.passwordAuth ? { username: env.OPENCODE_SERVER_USERNAME || "opencode", password } : undefined,
      corsOrigins: corsOrigins(env),
      maxBodyBytes: numberVar(env.OPENCODE_MAX_BODY_BYTES, 10 * 1024 * 1024),
      heartbeatMs: heartbeatMs(env),
      maxSubscriberBufferBytes: sseBufferBytes(env),
      platform: "the paired machine's (tools run there, through the edge)",
      modelRetries: env.OPENCODE_MODEL_RETRIES === "0" ? 0 : numberVar(env.OPENCODE_MODEL_RETRIES, 4),
      appUrl: env.OPENCODE_APP_URL || DEFAULT_APP_URL,
    },
    sessions: durableSessionStore(objects),
    projects: durableProjectStore(objects),
    records,
    sealer,
    tuiControl: durableTuiControl(objects),
    hub: new DurableObjectHub(objects),
    sseTransport: webStreamTransport,
    // A turn runs in its session's Durable Object: it outlives the request, and abort reaches it from any Worker.
    runner: {
      run: (_ports, sessionID, userID) => objects.session(sessionID).runTurn(tenant, sessionID, userID),
      abort: (_ports, sessionID) => objects.session(sessionID).abortTurn(sessionID),
    },
    shareLinks: edgeShareLinks(env, tenant, objects),
    clock: { now: () => Date.now() },
    log,
    resolveProject: rememberedProjectResolver(records, machine),
    upgradeWebSocket,
    machine,
    appCache: cacheApiAssetCache(),
    env: (name) => {
      const value = (env as unknown as Record<string, unknown>)[name]
      return typeof value === "string" ? value : undefined
    },
    fetch,
    // A request's connections cannot outlive it on Workers: each MCP call connects and closes again.
    mcp: new McpPool(() => remoteConnector(fetch, (name, config) => McpOAuth.connectionProvider(credentials, name, config)), log, false),
    background: waitUntil,
  }
}

/**
 * The edge's way to model providers: a provider on the user's own machine or network (Ollama, LM Studio) is
 * called from the paired machine through the tunnel, since a Worker cannot reach it; anything else directly.
 */
function relayingFetch(machine: Machine): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    if (!isPrivateHost(request.url) || !(await machine.connected().catch(() => false))) return fetch(request)
    const body = request.body ? await request.text() : undefined
    return machine.relay.fetch({ url: request.url, method: request.method, headers: [...request.headers], ...(body !== undefined ? { body } : {}) })
  }
}
