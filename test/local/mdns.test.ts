import { Bonjour, type Browser, type Service } from "bonjour-service"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest"
import { until } from "../support/http.ts"
import { startTarget, type Target } from "../support/targets.ts"

/** Bounded waits for multicast traffic (announcements are sent at once; a browse query is answered at once). */
const DISCOVERY_MS = 15_000

/** A bonjour browser of `_http._tcp` in the test process: what it has seen come up and go down. */
class Watcher {
  readonly up: Service[] = []
  readonly down: Service[] = []
  private readonly bonjour = new Bonjour()
  private readonly browser: Browser

  constructor() {
    this.browser = this.bonjour.find({ type: "http" })
    this.browser.on("up", (service) => this.up.push(service))
    this.browser.on("down", (service) => this.down.push(service))
  }

  waitUp(name: string, timeoutMs = DISCOVERY_MS) {
    return until(() => this.up.find((service) => service.name === name), { timeoutMs, what: `mDNS service ${name} to come up` })
  }

  waitDown(name: string, timeoutMs = DISCOVERY_MS) {
    return until(() => this.down.find((service) => service.name === name), { timeoutMs, what: `mDNS service ${name} to go down` })
  }

  /** Asks the network again, so a service that is announced already shows up too. */
  query() {
    this.browser.update()
  }

  close() {
    this.browser.stop()
    return new Promise<void>((resolve) => this.bonjour.destroy(() => resolve()))
  }
}

/**
 * Whether multicast reaches this process back: publish a throwaway service here and look for it. Sandboxes
 * without a multicast-capable interface cannot run these tests; they skip with this reason then.
 */
async function multicastUnavailable(): Promise<string | undefined> {
  const name = `mdns-selftest-${process.pid}`
  const publisher = new Bonjour()
  const watcher = new Watcher()
  try {
    publisher.publish({ name, type: "http", port: 9, txt: { path: "/" }, probe: false })
    await watcher.waitUp(name, 5_000)
    return undefined
  } catch {
    return "multicast DNS does not loop back on this machine (a service published here is not seen by a browser here)"
  } finally {
    await new Promise<void>((resolve) => publisher.unpublishAll(() => resolve()))
    await new Promise<void>((resolve) => publisher.destroy(() => resolve()))
    await watcher.close()
  }
}

describe("mDNS on the local agent", () => {
  let unavailable: string | undefined
  const targets: Target[] = []
  const watchers: Watcher[] = []

  beforeAll(async () => {
    unavailable = await multicastUnavailable()
  })

  afterEach(async () => {
    for (const watcher of watchers.splice(0)) await watcher.close()
  })

  afterAll(async () => {
    for (const target of targets.splice(0)) await target.stop()
  })

  async function start(extraArgs: string[]) {
    const target = await startTarget("local", { extraArgs })
    targets.push(target)
    return target
  }

  function watch() {
    const watcher = new Watcher()
    watchers.push(watcher)
    return watcher
  }

  test("--mdns listens on 0.0.0.0, publishes opencode-<port> as _http._tcp with txt path=/, and unpublishes on stop", async (context) => {
    if (unavailable) context.skip(unavailable)
    const watcher = watch()
    const target = await start(["--mdns"])
    const url = new URL(target.url)
    expect(url.hostname).toBe("0.0.0.0")
    const port = Number(url.port)
    const name = `opencode-${port}`

    watcher.query()
    const service = await watcher.waitUp(name)
    expect(service).toMatchObject({ name, type: "http", protocol: "tcp", port, host: "opencode.local" })
    expect(service.txt).toEqual({ path: "/" })
    await until(() => (/mDNS: published opencode-\d+/.test(target.output()) ? true : undefined), { what: "the published line" })
    expect(target.output()).toContain(`mDNS: published ${name}`)

    // A browser started after the announcement finds it too (it answers queries).
    const late = watch()
    const again = await late.waitUp(name)
    expect(again.port).toBe(port)

    await target.stop()
    targets.splice(targets.indexOf(target), 1)
    // The goodbye (TTL 0) records take it down at every browser that saw it.
    await watcher.waitDown(name)
    await late.waitDown(name)

    // And a fresh browse no longer finds it.
    const fresh = watch()
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(fresh.up.map((found) => found.name)).not.toContain(name)
  })

  test("--mdns-domain sets the host of the announcement", async (context) => {
    if (unavailable) context.skip(unavailable)
    const watcher = watch()
    const target = await start(["--mdns", "--mdns-domain", "devbox.local"])
    const name = `opencode-${new URL(target.url).port}`
    watcher.query()
    const service = await watcher.waitUp(name)
    expect(service.host).toBe("devbox.local")
  })

  test("--mdns with a loopback --hostname does not publish and says so", async () => {
    const watcher = watch()
    const target = await start(["--mdns", "--hostname", "127.0.0.1"])
    const url = new URL(target.url)
    expect(url.hostname).toBe("127.0.0.1")
    await until(() => (target.output().includes("mDNS: not published") ? true : undefined), { what: "the skip notice" })
    expect(target.output()).toContain("127.0.0.1 is a loopback address")
    expect(target.output()).not.toContain("mDNS: published")
    if (unavailable) return
    // Nothing answers for it on the network either (bounded look).
    watcher.query()
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(watcher.up.map((found) => found.name)).not.toContain(`opencode-${url.port}`)
  })
})
