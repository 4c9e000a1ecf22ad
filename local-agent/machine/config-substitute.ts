import { isAbsolute, join, resolve } from "node:path"
import { ConfigInvalidError } from "../../shared/config/errors.ts"

export interface SubstituteContext {
  /** The config file's path (or OPENCODE_CONFIG_CONTENT), for errors. */
  path: string
  /** Where a relative `{file:}` path starts: the config file's folder (the directory for inline config). */
  base: string
  env: Record<string, string | undefined>
  home: string
  /** A file's text, or undefined when there is none. */
  readText(path: string): Promise<string | undefined>
}

const REFERENCE = /\{(env|file):([^}]+)\}/g

/** Text placed inside a JSON string: quotes, backslashes and newlines escaped, as upstream places `{file:}` text. */
const escaped = (value: string) => JSON.stringify(value).slice(1, -1)

/**
 * Upstream's substitutions in a config file's text: `{env:NAME}` is the variable (empty when unset), `{file:path}`
 * the file's text, trimmed (relative to the config file's folder, `~/` for home). Both are escaped for a JSON
 * string, so a value with quotes or newlines stays one string (upstream escapes only file text). Lines
 * commented out with `//` are left alone, so a stale `{file:}` there does not fail the config.
 */
export async function substitute(text: string, context: SubstituteContext): Promise<string> {
  if (!text.includes("{env:") && !text.includes("{file:")) return text
  const lines = text.split("\n")
  for (const [index, line] of lines.entries()) {
    if (line.trimStart().startsWith("//")) continue
    let out = ""
    let last = 0
    for (const match of line.matchAll(REFERENCE)) {
      const [whole, kind, name] = match as unknown as [string, "env" | "file", string]
      out += line.slice(last, match.index) + escaped(kind === "env" ? (context.env[name] ?? "") : await fileText(whole, name, context))
      last = match.index + whole.length
    }
    lines[index] = out + line.slice(last)
  }
  return lines.join("\n")
}

async function fileText(reference: string, name: string, context: SubstituteContext): Promise<string> {
  const path = name.startsWith("~/") ? join(context.home, name.slice(2)) : isAbsolute(name) ? name : resolve(context.base, name)
  const text = await context.readText(path)
  if (text === undefined) {
    throw new ConfigInvalidError({ path: context.path, message: `${context.path}: bad file reference "${reference}": ${path} does not exist` })
  }
  return text.trim()
}
