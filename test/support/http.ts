import { afterAll, beforeAll, expect } from "vitest"
import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/client"
import { startTarget, type Target, type TargetKind, type TargetOptions } from "./targets.ts"

/** Starts a target for the enclosing describe block (once, in beforeAll) and stops it afterwards. */
export function useTarget(kind: TargetKind, options: TargetOptions = {}): () => Target {
  let target: Target | undefined
  beforeAll(async () => {
    target = await startTarget(kind, options)
  })
  afterAll(async () => {
    await target?.stop()
  })
  return () => {
    if (!target) throw new Error(`the ${kind} target did not start`)
    return target
  }
}

/** The published SDK's v1 client, pointed at the target and a directory. */
export function sdk(target: Target, directory?: string): OpencodeClient {
  return createOpencodeClient({
    baseUrl: target.url,
    ...(directory !== undefined ? { directory } : {}),
    headers: target.authHeaders,
  })
}

export interface ApiResponse {
  status: number
  headers: Headers
  text: string
  json: any
}

export interface ApiOptions {
  /** A JSON value (serialised) or, with `raw`, the exact body text. */
  body?: unknown
  raw?: string
  headers?: Record<string, string>
  /** Sent as `?directory=` (added to the query). */
  directory?: string
  /** Do not send the target's auth headers. */
  noAuth?: boolean
}

/** A raw HTTP request against the target, for routes or cases the SDK does not cover. */
export async function api(target: Target, method: string, path: string, options: ApiOptions = {}): Promise<ApiResponse> {
  const url = new URL(target.url + path)
  if (options.directory !== undefined) url.searchParams.set("directory", options.directory)
  const headers: Record<string, string> = { ...(options.noAuth ? {} : target.authHeaders), ...options.headers }
  let body: string | undefined
  if (options.raw !== undefined) body = options.raw
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/json"
  }
  const response = await fetch(url, { method, headers, body })
  const text = await response.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** Asserts a NamedError answer: the status and `{name, data: {message}}`. */
export function expectNamedError(response: ApiResponse, status: number, name: string) {
  expect({ status: response.status, name: response.json?.name }, response.text).toEqual({ status, name })
  expect(typeof response.json?.data?.message, response.text).toBe("string")
}

/** Polls `probe` until it returns a value other than undefined; a bounded wait, not a timing assertion. */
export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${options.what ?? "a condition"}`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50))
  }
}

/** A text part input. */
export function text(value: string) {
  return { type: "text" as const, text: value }
}
