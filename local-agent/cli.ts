import { openInBrowser } from "./browser.ts"
import { homedir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { VERSION } from "../shared/version.ts"
import { createLogger, isLogLevel } from "./log.ts"
import { DEFAULT_MDNS_DOMAIN, isLoopbackHostname, publishMdns, type MdnsPublication } from "./mdns.ts"
import { machineFilePath, normalizeEdge, pair, readMachineFile } from "./pair.ts"
import { connectTunnel } from "./tunnel.ts"
import { startLocalServer } from "./server.ts"
import { DEFAULT_APP_URL } from "../shared/webapp/webapp.ts"

const USAGE = `Usage: opencode-agent serve [options]
       opencode-agent pair --edge <url> [--state <dir>]
       opencode-agent connect [--edge <url>] [serve options]
       opencode-agent connect --local <url> [--state <dir>]

pair: registers this machine with the edge (once; the secret goes to <state>/machine.json, mode 0600) and
prints a pairing code and link for a web client; run it again for another code.

connect: serves locally as serve does and dials out to the paired edge over one WebSocket (no inbound
port), so web clients of the edge reach this machine's terminals and files; it reconnects on its own.
With --local <url> it serves nothing itself and tunnels to a server already running there: terminals then
outlive a restart of the tunnel.

serve options:

  --port <n>          port to listen on (default 4096; 0 picks a free one)
  --hostname <host>   address to bind (default 127.0.0.1; 0.0.0.0 with --mdns)
  --mdns              announce the server as opencode-<port> (_http._tcp) over mDNS
  --mdns-domain <d>   host name in the mDNS announcement (default opencode.local)
  --cors <origin>     also allow this browser origin (repeatable)
  --state <dir>       where state is kept (default $OPENCODE_STATE_DIR or ~/.local/share/opencode-server)
  --directory <dir>   directory of requests that name none (default: the current directory)
  --log-level <l>     debug | info | warn | error | silent (default info)
  --open              open the web app in a browser once the server listens

Environment: OPENCODE_SERVER_PASSWORD turns on HTTP Basic auth (user OPENCODE_SERVER_USERNAME, default "opencode");
OPENCODE_APP_URL is where the web app's files come from (default ${DEFAULT_APP_URL}).`

function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`)
  process.exit(2)
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) fail(`${name} must be a whole number: ${value}`)
  return parsed
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: "string" },
      hostname: { type: "string" },
      mdns: { type: "boolean" },
      open: { type: "boolean" },
      "mdns-domain": { type: "string" },
      cors: { type: "string", multiple: true },
      state: { type: "string" },
      directory: { type: "string" },
      "log-level": { type: "string" },
      edge: { type: "string" },
      local: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const [command = "serve"] = positionals
  if (command !== "serve" && command !== "pair" && command !== "connect") fail(`Unknown command: ${command}`)

  const env = process.env
  const stateDirectory = values.state ?? env.OPENCODE_STATE_DIR ?? join(homedir(), ".local", "share", "opencode-server")
  if (command === "pair") {
    if (!values.edge) fail("pair needs --edge <url>")
    const result = await pair(values.edge, stateDirectory, (line) => process.stderr.write(`${line}\n`))
    const { machine } = result
    process.stdout.write(
      (result.registered
        ? `Registered machine ${machine.machineID} with ${machine.edge} (tenant ${machine.tenant}); secret saved to ${machineFilePath(stateDirectory)}\n`
        : `Machine ${machine.machineID} is registered with ${machine.edge}\n`) +
        `Pairing code: ${result.pairingCode}  (single use, valid 10 minutes)\n` +
        `Pair a browser: ${result.pairURL}\n`,
    )
    return
  }
  const logLevel = values["log-level"] ?? env.OPENCODE_LOG_LEVEL ?? "info"
  if (!isLogLevel(logLevel)) fail(`Unknown log level: ${logLevel}`)
  const machine = command === "connect" ? await readMachineFile(stateDirectory) : undefined
  if (command === "connect") {
    if (!machine) fail(`Not paired: run pair --edge <url> first (no ${machineFilePath(stateDirectory)})`)
    if (values.edge && normalizeEdge(values.edge) !== machine.edge) fail(`This machine is paired with ${machine.edge}, not ${values.edge}`)
  }
  const password = env.OPENCODE_SERVER_PASSWORD
  const localHeaders = password
    ? { Authorization: basicAuthorization(env.OPENCODE_SERVER_USERNAME || "opencode", password) }
    : undefined
  const openTunnel = (local: string) =>
    connectTunnel({
      edge: machine!.edge,
      secret: machine!.secret,
      local,
      localHeaders,
      log: createLogger(logLevel),
      pingMs: positiveInt("OPENCODE_TUNNEL_PING_MS", env.OPENCODE_TUNNEL_PING_MS, 15_000) || 15_000,
      onConnected: () => process.stdout.write(`tunnel connected to ${machine!.edge}\n`),
      onReplaced: () => process.stdout.write(`tunnel replaced: another agent of this machine connected to ${machine!.edge}\n`),
    })
  if (machine && values.local) {
    const tunnel = openTunnel(values.local.replace(/\/$/, ""))
    const stopTunnel = async () => {
      await tunnel.close()
      process.exit(0)
    }
    process.on("SIGINT", stopTunnel)
    process.on("SIGTERM", stopTunnel)
    return
  }
  if (!password) process.stderr.write("Warning: OPENCODE_SERVER_PASSWORD is not set; server is unsecured.\n")

  // As upstream: --mdns without an explicit --hostname listens on every interface.
  const hostname = values.hostname ?? (values.mdns ? "0.0.0.0" : "127.0.0.1")
  const server = await startLocalServer({
    port: positiveInt("--port", values.port, 4096),
    hostname,
    stateDirectory,
    logLevel,
    replayWindow: positiveInt("OPENCODE_REPLAY_WINDOW", env.OPENCODE_REPLAY_WINDOW, 1000),
    config: {
      version: VERSION,
      defaultDirectory: values.directory ?? process.cwd(),
      auth: password ? { username: env.OPENCODE_SERVER_USERNAME || "opencode", password } : undefined,
      corsOrigins: values.cors ?? [],
      maxBodyBytes: positiveInt("OPENCODE_MAX_BODY_BYTES", env.OPENCODE_MAX_BODY_BYTES, 10 * 1024 * 1024),
      heartbeatMs: positiveInt("OPENCODE_HEARTBEAT_MS", env.OPENCODE_HEARTBEAT_MS, 30_000),
      maxSubscriberBufferBytes: positiveInt("OPENCODE_SSE_BUFFER_BYTES", env.OPENCODE_SSE_BUFFER_BYTES, 4 * 1024 * 1024),
      platform: process.platform,
      appUrl: env.OPENCODE_APP_URL || DEFAULT_APP_URL,
      modelRetries: env.OPENCODE_MODEL_RETRIES === "0" ? 0 : positiveInt("OPENCODE_MODEL_RETRIES", env.OPENCODE_MODEL_RETRIES, 4),
    },
  })
  process.stdout.write(`opencode server listening on ${server.url}\n`)
  // As `opencode web`: where a browser finds the app this server serves.
  const webUrl = `${server.url.replace("//0.0.0.0:", "//127.0.0.1:")}/`
  process.stdout.write(`Web interface: ${webUrl}\n`)
  // Without a desktop, the printed URL is the way.
  if (values.open) openInBrowser(webUrl).catch((error) => process.stderr.write(`${error.message}; open ${webUrl}\n`))

  // connect: the same local server, reachable from the paired edge through one outbound WebSocket.
  const tunnel = machine && openTunnel(server.url.replace("//0.0.0.0:", "//127.0.0.1:"))

  let mdns: MdnsPublication | undefined
  if (values.mdns) {
    if (isLoopbackHostname(hostname)) {
      process.stderr.write(`mDNS: not published, ${hostname} is a loopback address\n`)
    } else {
      mdns = publishMdns({
        port: Number(new URL(server.url).port),
        domain: values["mdns-domain"] ?? DEFAULT_MDNS_DOMAIN,
        onError: (error) => process.stderr.write(`mDNS: ${error instanceof Error ? error.message : String(error)}\n`),
      })
      process.stderr.write(`mDNS: published ${mdns.name} (${mdns.type}) host ${mdns.host} port ${mdns.port} txt path=/\n`)
    }
  }

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await mdns?.stop()
    await tunnel?.close()
    await server.close()
    process.exit(0)
  }
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`)
  process.exit(1)
})
