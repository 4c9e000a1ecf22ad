/**
 * mDNS announcement of the local agent, as upstream `server/mdns.ts`: `opencode-<port>` as `_http._tcp`
 * with txt `path=/` and host `<domain>` (default `opencode.local`), through bonjour-service.
 */
import { Bonjour } from "bonjour-service"

export const DEFAULT_MDNS_DOMAIN = "opencode.local"

export interface MdnsPublication {
  readonly name: string
  readonly type: string
  readonly host: string
  readonly port: number
  /** Sends the goodbye (TTL 0) records, then closes the multicast socket. Safe to call twice. */
  stop(): Promise<void>
}

export interface MdnsOptions {
  port: number
  domain?: string
  /** Called with a problem of the multicast socket or of the announcement; the server keeps serving. */
  onError?: (error: unknown) => void
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"])

/** Whether a listen hostname is loopback-only, so an mDNS announcement would point nowhere reachable. */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** How long stop() waits for the goodbye packet before it closes the socket anyway. */
const GOODBYE_TIMEOUT_MS = 2_000

export function publishMdns(options: MdnsOptions): MdnsPublication {
  const onError = options.onError ?? (() => {})
  const host = options.domain || DEFAULT_MDNS_DOMAIN
  const name = `opencode-${options.port}`
  const bonjour = new Bonjour({}, (error: unknown) => onError(error))
  const service = bonjour.publish({ name, type: "http", host, port: options.port, txt: { path: "/" } })
  service.on("error", onError)
  let stopping: Promise<void> | undefined
  return {
    name,
    type: "_http._tcp",
    host,
    port: options.port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        let finished = false
        const finish = () => {
          if (finished) return
          finished = true
          clearTimeout(timer)
          try {
            bonjour.destroy(() => resolve())
          } catch (error) {
            onError(error)
            resolve()
          }
        }
        const timer = setTimeout(finish, GOODBYE_TIMEOUT_MS)
        timer.unref()
        try {
          bonjour.unpublishAll(finish)
        } catch (error) {
          onError(error)
          finish()
        }
      })
      return stopping
    },
  }
}
