import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { until } from "./http.ts"
import { freePort, REPO_ROOT } from "./targets.ts"

/**
 * Upstream's `opencode serve` (the opencode-ai devDependency) as the web app's origin: it serves the official app
 * offline. Its own process group, a throwaway HOME; the port is chosen up front so targets can be told the URL.
 */
export class AppOrigin {
  private child: ChildProcess | undefined
  private readonly home = mkdtempSync(join(tmpdir(), "oc-app-home-"))
  private readonly project = mkdtempSync(join(tmpdir(), "oc-app-project-"))

  private constructor(private readonly port: number) {}

  static async create(): Promise<AppOrigin> {
    return new AppOrigin(await freePort())
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start() {
    this.child = spawn(join(REPO_ROOT, "node_modules", ".bin", "opencode"), ["serve", "--port", String(this.port), "--hostname", "127.0.0.1"], {
      cwd: this.project,
      env: { ...process.env, HOME: this.home, OPENCODE_DISABLE_AUTOUPDATE: "1" },
      detached: true,
      stdio: "ignore",
    })
    await until(() => fetch(`${this.url}/`, { signal: AbortSignal.timeout(2_000) }).then((r) => (r.ok ? true : undefined), () => undefined), {
      timeoutMs: 60_000,
      what: "upstream's server to serve the app",
    })
  }

  stop() {
    try {
      if (this.child?.pid) process.kill(-this.child.pid, "SIGKILL")
    } catch {
      // already gone
    }
    this.child = undefined
  }

  cleanUp() {
    this.stop()
    for (const folder of [this.home, this.project]) rmSync(folder, { recursive: true, force: true })
  }
}
