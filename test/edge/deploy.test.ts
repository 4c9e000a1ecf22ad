import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, test } from "vitest"
import { REPO_ROOT } from "../support/targets.ts"

const run = promisify(execFile)

/** What `npm run deploy -- --dry-run --env production` does, offline: the production bundle builds with every binding. */
describe("deploying to production", () => {
  const outdir = mkdtempSync(join(tmpdir(), "oc-deploy-"))
  afterAll(() => rmSync(outdir, { recursive: true, force: true }))

  test("npm run deploy -- --dry-run --env production builds the bundle with its Durable Objects, routes and share host", async () => {
    const { stdout, stderr } = await run("npm", ["run", "deploy", "--", "--dry-run", "--env", "production", "--outdir", outdir], {
      cwd: REPO_ROOT,
      timeout: 120_000,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
    })
    const output = stdout + stderr
    for (const binding of ["SESSIONS", "DIRECTORIES", "GLOBAL", "MACHINES", "REGISTRY", "SHARES"]) expect(output).toContain(binding)
    expect(output).toContain("OPENCODE_SHARE_URL")
    expect(output).toContain("--dry-run: exiting now.")
    const bundle = readdirSync(outdir).find((file) => file.endsWith(".js"))
    expect(bundle, output).toBeDefined()
    expect(statSync(join(outdir, bundle!)).size).toBeGreaterThan(0)
  })
})
