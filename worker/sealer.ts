import { SecretsUnavailableError } from "../shared/domain/config.ts"
import type { Sealer } from "../shared/ports.ts"

/**
 * AES-256-GCM with Web Crypto. The key is derived with HKDF-SHA-256 from the `OPENCODE_SECRETS_KEY` secret,
 * one key per tenant (the tenant is the HKDF info). Sealed text: `v1.<base64 iv>.<base64 ciphertext+tag>`.
 * Without the secret nothing is sealed or opened: a 503 SecretsUnavailableError, never plaintext at rest.
 */
export function webCryptoSealer(secret: string | undefined, context: string): Sealer {
  let key: Promise<CryptoKey> | undefined
  const derived = () => {
    if (!secret) {
      throw new SecretsUnavailableError({
        message: "This edge keeps no credentials: set the OPENCODE_SECRETS_KEY secret (wrangler secret put OPENCODE_SECRETS_KEY)",
      })
    }
    key ??= (async () => {
      const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"])
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new TextEncoder().encode("opencode-edge-credentials-v1"),
          info: new TextEncoder().encode(context),
        },
        material,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      )
    })()
    return key
  }
  return {
    async seal(text) {
      const aesKey = await derived()
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const cipher = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aesKey, new TextEncoder().encode(text))
      return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(cipher))}`
    },
    async open(sealed) {
      const aesKey = await derived()
      const [version, iv, cipher] = sealed.split(".")
      if (version !== "v1" || !iv || !cipher) throw new Error("not a sealed value")
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64(iv) },
        aesKey,
        fromBase64(cipher),
      )
      return new TextDecoder().decode(plain)
    },
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
