import { mkdtemp, readFile, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, test } from "vitest"
import { fileSealer } from "../../local-agent/sealer.ts"
import { webCryptoSealer } from "../../worker/sealer.ts"
import { SecretsUnavailableError } from "../../shared/domain/config.ts"

const PLAIN = JSON.stringify({ type: "api", key: "sk-unit-SECRET-123" })

describe("sealers", () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })
  const stateDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "oc-sealer-"))
    dirs.push(dir)
    return dir
  }

  test("node: sealed text hides the plaintext, opens back, and the key file is 32 bytes, mode 0600", async () => {
    const dir = await stateDir()
    const sealer = fileSealer(dir)
    const sealed = await sealer.seal(PLAIN)
    expect(sealed).not.toContain("sk-unit-SECRET")
    expect(sealed).not.toContain(Buffer.from(PLAIN).toString("base64").slice(0, 12))
    expect(await sealer.open(sealed)).toBe(PLAIN)
    expect(await sealer.seal(PLAIN)).not.toBe(sealed) // a fresh IV each time
    const key = join(dir, "secrets.key")
    expect((await readFile(key)).length).toBe(32)
    expect((await stat(key)).mode & 0o777).toBe(0o600)
    // another process on the same state directory reads the same key
    expect(await fileSealer(dir).open(sealed)).toBe(PLAIN)
    // another machine's key cannot open it; tampering is detected
    await expect(fileSealer(await stateDir()).open(sealed)).rejects.toThrow()
    const parts = sealed.split(".")
    parts[3] = Buffer.from("tampered!").toString("base64")
    await expect(sealer.open(parts.join("."))).rejects.toThrow()
  })

  test("edge: AES-GCM from the secret, per tenant; refuses without a secret", async () => {
    const sealer = webCryptoSealer("unit-secret", "tenant-a")
    const sealed = await sealer.seal(PLAIN)
    expect(sealed).not.toContain("sk-unit-SECRET")
    expect(sealed.startsWith("v1.")).toBe(true)
    expect(await sealer.open(sealed)).toBe(PLAIN)
    expect(await webCryptoSealer("unit-secret", "tenant-a").open(sealed)).toBe(PLAIN)
    expect(await sealer.seal(PLAIN)).not.toBe(sealed)
    await expect(webCryptoSealer("other-secret", "tenant-a").open(sealed)).rejects.toThrow()
    await expect(webCryptoSealer("unit-secret", "tenant-b").open(sealed)).rejects.toThrow()

    const keyless = webCryptoSealer(undefined, "tenant-a")
    await expect(keyless.seal(PLAIN)).rejects.toBeInstanceOf(SecretsUnavailableError)
    await expect(keyless.open(sealed)).rejects.toBeInstanceOf(SecretsUnavailableError)
    const error = (await keyless.seal(PLAIN).then(
      () => undefined,
      (e: unknown) => e,
    )) as InstanceType<typeof SecretsUnavailableError>
    expect(error.status).toBe(503)
    expect(error.toObject()).toMatchObject({ name: "SecretsUnavailableError", data: { message: expect.stringContaining("OPENCODE_SECRETS_KEY") } })
  })
})
