import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { edgeRequest, type EdgeAnswer } from "./edge-request.ts"

/** What a registered machine keeps: `<state dir>/machine.json`, mode 0600 (the secret is its only credential). */
export interface MachineFile {
  edge: string
  tenant: string
  machineID: string
  secret: string
}

export interface PairResult {
  machine: MachineFile
  pairingCode: string
  pairURL: string
  /** True when this call registered the machine (false: a new code for an already registered one). */
  registered: boolean
}

export function machineFilePath(stateDirectory: string): string {
  return join(stateDirectory, "machine.json")
}

/** `https://edge.example/` and `https://edge.example` are the same edge. */
export function normalizeEdge(edge: string): string {
  let url: URL
  try {
    url = new URL(edge)
  } catch {
    throw new Error(`--edge must be a URL: ${edge}`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`--edge must be http(s): ${edge}`)
  return url.origin + url.pathname.replace(/\/+$/, "")
}

export async function readMachineFile(stateDirectory: string): Promise<MachineFile | undefined> {
  try {
    const value = JSON.parse(await readFile(machineFilePath(stateDirectory), "utf8"))
    if (typeof value?.edge === "string" && typeof value?.secret === "string") return value as MachineFile
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
  }
  return undefined
}

async function writeMachineFile(stateDirectory: string, machine: MachineFile): Promise<void> {
  await mkdir(stateDirectory, { recursive: true, mode: 0o700 })
  const path = machineFilePath(stateDirectory)
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(machine, null, 2)}\n`, { mode: 0o600 })
  await chmod(temporary, 0o600)
  await rename(temporary, path)
}

function post(url: string, headers: Record<string, string> = {}): Promise<EdgeAnswer> {
  return edgeRequest(url, { method: "POST", headers })
}

function failed(what: string, response: { status: number; json: any }): Error {
  return new Error(`${what} failed: ${response.status} ${response.json?.name ?? ""} ${response.json?.data?.message ?? ""}`.trim())
}

/**
 * Registers this machine with the edge (a new tenant) and saves its secret, or, when it is already registered
 * with that edge, asks for a new pairing code. A machine whose secret the edge no longer accepts (revoked)
 * registers again.
 */
export async function pair(edgeURL: string, stateDirectory: string, notice: (line: string) => void = () => {}): Promise<PairResult> {
  const edge = normalizeEdge(edgeURL)
  const existing = await readMachineFile(stateDirectory)
  if (existing && normalizeEdge(existing.edge) === edge) {
    const response = await post(`${edge}/edge/machine/pairing-code`, { Authorization: `Bearer ${existing.secret}` })
    if (response.status === 200) {
      return { machine: existing, pairingCode: response.json.pairingCode, pairURL: response.json.pairURL, registered: false }
    }
    if (response.status !== 401) throw failed("Asking the edge for a pairing code", response)
    notice(`The edge no longer accepts machine ${existing.machineID}; registering again.`)
  } else if (existing) {
    notice(`Replacing the registration with ${existing.edge} (machine ${existing.machineID}).`)
  }
  const response = await post(`${edge}/edge/machine/register`)
  if (response.status !== 200) throw failed("Registering with the edge", response)
  const { tenant, machineID, secret, pairingCode, pairURL } = response.json
  const machine: MachineFile = { edge, tenant, machineID, secret }
  await writeMachineFile(stateDirectory, machine)
  return { machine, pairingCode, pairURL, registered: true }
}
