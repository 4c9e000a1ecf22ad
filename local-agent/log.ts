import type { Logger } from "../shared/ports.ts"

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const
export type LogLevel = keyof typeof LEVELS

function format(extra?: Record<string, unknown>): string {
  if (!extra) return ""
  return Object.entries(extra)
    .map(([key, value]) => ` ${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join("")
}

/** Log lines on stderr, so stdout carries only what clients parse (the listening line). */
export function createLogger(level: LogLevel): Logger {
  const at = LEVELS[level]
  const write = (name: Exclude<LogLevel, "silent">) => (message: string, extra?: Record<string, unknown>) => {
    if (LEVELS[name] < at) return
    process.stderr.write(`${name.toUpperCase().padEnd(5)} ${new Date().toISOString()} ${message}${format(extra)}\n`)
  }
  return { info: write("info"), warn: write("warn"), error: write("error") }
}

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVELS
}
