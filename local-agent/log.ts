import { writeSync } from "node:fs"
import type { Logger } from "../shared/ports.ts"

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const
export type LogLevel = keyof typeof LEVELS

function format(extra?: Record<string, unknown>): string {
  if (!extra) return ""
  let text = ""
  for (const key of Object.keys(extra)) {
    const value = extra[key]
    text += ` ${key}=${typeof value === "string" ? value : JSON.stringify(value)}`
  }
  return text
}

/** Many lines share a millisecond under load: its ISO text is made once. */
let stampedAt = -1
let stamp = ""

function timestamp(): string {
  const now = Date.now()
  if (now !== stampedAt) {
    stampedAt = now
    stamp = new Date(now).toISOString()
  }
  return stamp
}

/**
 * Lines waiting for the next turn of the event loop. stderr to a file or pipe is written synchronously, so one
 * write per request line would cost every request a system call; one write per loop turn carries them all.
 */
let pending = ""

function flush() {
  if (!pending) return
  const lines = pending
  pending = ""
  process.stderr.write(lines)
}

function queue(line: string) {
  if (!pending) setImmediate(flush)
  pending += line
}

// whatever is still queued when the process ends goes out with it
process.on("exit", () => {
  if (pending) writeSync(2, pending)
})

/** Log lines on stderr, so stdout carries only what clients parse (the listening line). */
export function createLogger(level: LogLevel): Logger {
  const at = LEVELS[level]
  const write = (name: Exclude<LogLevel, "silent">) => {
    const label = name.toUpperCase().padEnd(5)
    return (message: string, extra?: Record<string, unknown>) => {
      if (LEVELS[name] < at) return
      queue(`${label} ${timestamp()} ${message}${format(extra)}\n`)
    }
  }
  return { info: write("info"), warn: write("warn"), error: write("error") }
}

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVELS
}
