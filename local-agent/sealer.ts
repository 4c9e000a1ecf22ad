import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { Sealer } from "../shared/ports.ts"

/**
 * AES-256-GCM with node:crypto and this machine's own key: 32 random bytes in `<state>/secrets.key`
 * (mode 0600), made on first use. Sealed text: `v1.<base64 iv>.<base64 tag>.<base64 ciphertext>`.
 */
export function fileSealer(stateDirectory: string): Sealer {
  const path = join(stateDirectory, "secrets.key")
  let key: Promise<Buffer> | undefined
  const load = () => (key ??= loadOrCreateKey(stateDirectory, path).catch((error) => {
    key = undefined
    throw error
  }))
  return {
    async seal(text) {
      const iv = randomBytes(12)
      const cipher = createCipheriv("aes-256-gcm", await load(), iv)
      const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final()])
      return `v1.${iv.toString("base64")}.${cipher.getAuthTag().toString("base64")}.${body.toString("base64")}`
    },
    async open(sealed) {
      const [version, iv, tag, body] = sealed.split(".")
      if (version !== "v1" || !iv || !tag || body === undefined) throw new Error("not a sealed value")
      const decipher = createDecipheriv("aes-256-gcm", await load(), Buffer.from(iv, "base64"))
      decipher.setAuthTag(Buffer.from(tag, "base64"))
      return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8")
    },
  }
}

async function loadOrCreateKey(directory: string, path: string): Promise<Buffer> {
  await mkdir(directory, { recursive: true })
  try {
    await writeFile(path, randomBytes(32), { flag: "wx", mode: 0o600 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
  }
  const key = await readFile(path)
  if (key.length !== 32) throw new Error(`${path}: expected a 32-byte key, found ${key.length} bytes`)
  return key
}
