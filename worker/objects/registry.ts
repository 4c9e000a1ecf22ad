import { DurableObject } from "cloudflare:workers"
import type { Env } from "../env.ts"
import { hex, newSecret, randomBytes, sha256 } from "../secrets.ts"

/** A pairing code is good for this long, once. */
export const PAIRING_CODE_TTL_MS = 10 * 60 * 1000
/**
 * Failed `pair` attempts one client (CF-Connecting-IP) may make within the current and the previous minute before
 * it gets 429, and all clients together. Codes have ~40 bits and live 10 minutes, so guessing is hopeless.
 */
export const PAIR_FAILURES_PER_MINUTE = 10
export const PAIR_FAILURES_PER_MINUTE_GLOBAL = 1000
/** Machine registrations one client may make within the current and the previous minute. */
export const REGISTRATIONS_PER_MINUTE = 60

/** No I, L, O, 0, 1: a code read aloud or off a screen is typed right. */
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
const CODE_LENGTH = 8

/** Why a registry call was refused; the edge's routes map each to a NamedError. */
export type RegistryFailure = "unauthorized" | "not-found" | "rate-limited"
export type RegistryResult<T> = { ok: true; value: T } | { ok: false; error: RegistryFailure; message: string }

export interface Registration {
  tenant: string
  machineID: string
  secret: string
  pairingCode: string
}

export interface Pairing {
  token: string
  tokenID: string
  tenant: string
  machineID: string
}

/** Upper case, no separators: `abcd-efgh` and `ABCDEFGH` are the same code. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "")
}

/** Shown as `ABCD-EFGH`; about 40 bits, uniform (rejection sampling), single use and short-lived. */
function newPairingCode(): string {
  let code = ""
  while (code.length < CODE_LENGTH) {
    for (const byte of randomBytes(16)) {
      // 248 = 8 * 31: bytes past it would bias the first characters.
      if (byte < 248 && code.length < CODE_LENGTH) code += CODE_ALPHABET[byte % CODE_ALPHABET.length]
    }
  }
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

const fail = (error: RegistryFailure, message: string): { ok: false; error: RegistryFailure; message: string } => ({
  ok: false,
  error,
  message,
})

/**
 * The one registry of machines, pairing codes and client tokens (named "registry"): a single consistency
 * boundary, so a code is used at most once and a revocation is seen by the next lookup. Only SHA-256 hashes of
 * secrets, codes and tokens are stored; the clear values exist in the answer to the call that made them.
 */
export class RegistryObject extends DurableObject<Env> {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS machine (
        id TEXT PRIMARY KEY, tenant TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
        created INTEGER NOT NULL, revoked INTEGER);
      CREATE TABLE IF NOT EXISTS pairing_code (
        code_hash TEXT PRIMARY KEY, machine_id TEXT NOT NULL, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS client_token (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, machine_id TEXT NOT NULL,
        created INTEGER NOT NULL, revoked INTEGER);
      CREATE INDEX IF NOT EXISTS client_token_machine ON client_token (machine_id);
      CREATE TABLE IF NOT EXISTS attempt (bucket TEXT NOT NULL, minute INTEGER NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (bucket, minute));
    `)
  }

  /** A new tenant with its first machine, and a pairing code for it. */
  async registerMachine(client = "unknown"): Promise<RegistryResult<Registration>> {
    if (this.count(`register:${client}`) >= REGISTRATIONS_PER_MINUTE) {
      return fail("rate-limited", "Too many machine registrations; try again in a minute")
    }
    this.bump(`register:${client}`)
    const tenant = `t${hex(randomBytes(16))}`
    const machineID = `mch_${hex(randomBytes(12))}`
    const secret = newSecret()
    this.sql.exec(
      "INSERT INTO machine (id, tenant, secret_hash, created) VALUES (?, ?, ?, ?)",
      machineID,
      tenant,
      await sha256(secret),
      Date.now(),
    )
    const pairingCode = await this.issueCode(machineID)
    return { ok: true, value: { tenant, machineID, secret, pairingCode } }
  }

  /** Another pairing code for a machine, which proves itself with its secret. */
  async newPairingCode(machineSecret: string): Promise<RegistryResult<string>> {
    const machine = this.machineRow(await sha256(machineSecret))
    if (!machine) return fail("unauthorized", "Unknown or revoked machine secret")
    return { ok: true, value: await this.issueCode(machine.id) }
  }

  /** Trades a pairing code (once, before it expires) for a client token bound to the code's machine and tenant. */
  async pair(code: string, client = "unknown"): Promise<RegistryResult<Pairing>> {
    const now = Date.now()
    if (
      this.count(`pair:${client}`) >= PAIR_FAILURES_PER_MINUTE ||
      this.count("pair:*") >= PAIR_FAILURES_PER_MINUTE_GLOBAL
    ) {
      return fail("rate-limited", "Too many failed pairing attempts; try again in a minute or two")
    }
    const codeHash = await sha256(normalizeCode(code))
    const row = this.sql
      .exec<{ machine_id: string; tenant: string }>(
        `SELECT p.machine_id, m.tenant FROM pairing_code p JOIN machine m ON m.id = p.machine_id
         WHERE p.code_hash = ? AND p.used = 0 AND p.expires > ? AND m.revoked IS NULL`,
        codeHash,
        now,
      )
      .toArray()[0]
    if (!row) {
      this.bump(`pair:${client}`)
      this.bump("pair:*")
      return fail("unauthorized", "Unknown, used or expired pairing code")
    }
    this.sql.exec("UPDATE pairing_code SET used = 1 WHERE code_hash = ?", codeHash)
    const token = newSecret()
    const tokenID = `tok_${hex(randomBytes(12))}`
    this.sql.exec(
      "INSERT INTO client_token (id, token_hash, tenant, machine_id, created) VALUES (?, ?, ?, ?, ?)",
      tokenID,
      await sha256(token),
      row.tenant,
      row.machine_id,
      now,
    )
    return { ok: true, value: { token, tokenID, tenant: row.tenant, machineID: row.machine_id } }
  }

  /** The tenant of a live client token (by its hash), or undefined. */
  clientTenant(tokenHash: string): string | undefined {
    return this.sql
      .exec<{ tenant: string }>(
        `SELECT t.tenant FROM client_token t JOIN machine m ON m.id = t.machine_id
         WHERE t.token_hash = ? AND t.revoked IS NULL AND m.revoked IS NULL`,
        tokenHash,
      )
      .toArray()[0]?.tenant
  }

  /** The tenant and id of a live machine (by its secret's hash), or undefined. */
  machine(secretHash: string): { tenant: string; machineID: string } | undefined {
    const row = this.machineRow(secretHash)
    return row && { tenant: row.tenant, machineID: row.id }
  }

  /**
   * Revokes one client token. The credential is the secret of the token's machine or the token itself.
   * Answers the revoked token's hash, so the caller can drop it from its cache.
   */
  async revokeToken(tokenID: string, credential: string): Promise<RegistryResult<string>> {
    const credentialHash = await sha256(credential)
    const machine = this.machineRow(credentialHash)
    const token = this.sql
      .exec<{ token_hash: string; machine_id: string }>(
        "SELECT token_hash, machine_id FROM client_token WHERE id = ?",
        tokenID,
      )
      .toArray()[0]
    const byMachine = machine !== undefined && token?.machine_id === machine.id
    const byToken = token !== undefined && token.token_hash === credentialHash
    if (!byMachine && !byToken) {
      // A machine may learn that an id is not one of its tokens; anyone else learns nothing.
      return machine ? fail("not-found", `Unknown client token: ${tokenID}`) : fail("unauthorized", "Bad credentials")
    }
    this.sql.exec("UPDATE client_token SET revoked = ? WHERE id = ? AND revoked IS NULL", Date.now(), tokenID)
    return { ok: true, value: token!.token_hash }
  }

  /** Revokes a machine, its pairing codes and every client token paired with it; answers the tokens' hashes. */
  async revokeMachine(machineSecret: string): Promise<RegistryResult<string[]>> {
    const machine = this.machineRow(await sha256(machineSecret))
    if (!machine) return fail("unauthorized", "Unknown or revoked machine secret")
    const now = Date.now()
    const hashes = this.sql
      .exec<{ token_hash: string }>("SELECT token_hash FROM client_token WHERE machine_id = ? AND revoked IS NULL", machine.id)
      .toArray()
      .map((row) => row.token_hash)
    this.sql.exec("UPDATE machine SET revoked = ? WHERE id = ?", now, machine.id)
    this.sql.exec("UPDATE client_token SET revoked = ? WHERE machine_id = ? AND revoked IS NULL", now, machine.id)
    this.sql.exec("UPDATE pairing_code SET used = 1 WHERE machine_id = ?", machine.id)
    return { ok: true, value: hashes }
  }

  private machineRow(secretHash: string): { id: string; tenant: string } | undefined {
    return this.sql
      .exec<{ id: string; tenant: string }>("SELECT id, tenant FROM machine WHERE secret_hash = ? AND revoked IS NULL", secretHash)
      .toArray()[0]
  }

  private async issueCode(machineID: string): Promise<string> {
    const now = Date.now()
    this.sql.exec("DELETE FROM pairing_code WHERE expires <= ? OR used = 1", now)
    for (;;) {
      const code = newPairingCode()
      const codeHash = await sha256(normalizeCode(code))
      const taken = this.sql.exec("SELECT 1 FROM pairing_code WHERE code_hash = ?", codeHash).toArray().length > 0
      if (taken) continue
      this.sql.exec(
        "INSERT INTO pairing_code (code_hash, machine_id, expires) VALUES (?, ?, ?)",
        codeHash,
        machineID,
        now + PAIRING_CODE_TTL_MS,
      )
      return code
    }
  }

  /** Attempts counted in `bucket` during this minute and the one before (so no count resets mid-burst). */
  private count(bucket: string): number {
    const minute = Math.floor(Date.now() / 60_000)
    return (
      this.sql
        .exec<{ total: number | null }>(
          "SELECT SUM(count) AS total FROM attempt WHERE bucket = ? AND minute >= ?",
          bucket,
          minute - 1,
        )
        .toArray()[0]?.total ?? 0
    )
  }

  private bump(bucket: string): void {
    const minute = Math.floor(Date.now() / 60_000)
    this.sql.exec("DELETE FROM attempt WHERE minute < ?", minute - 1)
    this.sql.exec(
      `INSERT INTO attempt (bucket, minute, count) VALUES (?, ?, 1)
       ON CONFLICT (bucket, minute) DO UPDATE SET count = count + 1`,
      bucket,
      minute,
    )
  }
}
