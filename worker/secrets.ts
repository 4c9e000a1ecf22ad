/** Random secrets and their hashes: what the registry and share links store instead of the clear values. */

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length))
}

export function base64url(bytes: Uint8Array): string {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")
}

/** A secret or token: 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return base64url(randomBytes(32))
}

/** SHA-256, hex: how every secret, token and pairing code is stored and looked up. */
export async function sha256(value: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value))))
}

/** A share link's id: 16 random bytes, base64url (22 characters), far past upstream's 8 characters of the session id. */
export function newShareID(): string {
  return base64url(randomBytes(16))
}
