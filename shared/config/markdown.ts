import { parseDocument } from "yaml"
import { ConfigFrontmatterError, ConfigInvalidError } from "./errors.ts"

/** `---`, the YAML, `---`, then the body; the YAML may be empty. */
const FRONTMATTER = /^---[ \t]*\r?\n(?:([\s\S]*?)\r?\n)?---[ \t]*(?:\r?\n|$)/

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * A markdown agent or command file: the options in its YAML frontmatter (none without one) and its body,
 * trimmed. A frontmatter that does not parse is ConfigFrontmatterError with `line:column` in the file.
 */
export function parseMarkdown(path: string, text: string): { options: Record<string, unknown>; body: string } {
  const match = FRONTMATTER.exec(text)
  if (!match) return { options: {}, body: text.trim() }
  const body = text.slice(match[0].length).trim()
  const document = parseDocument(match[1] ?? "")
  const [error] = document.errors
  if (error) {
    // The YAML starts on the file's second line, after the opening `---`.
    const at = error.linePos?.[0]
    const place = at ? ` at ${at.line + 1}:${at.col}` : ""
    // yaml's own message ends with its place in the frontmatter alone and a copy of the line: both left out.
    const what = error.message.split(/ at line \d+/)[0]
    throw new ConfigFrontmatterError({ path, message: `${path}: ${what}${place}` })
  }
  const options = document.toJS() ?? {}
  if (!isObject(options)) throw new ConfigInvalidError({ path, message: `${path}: the frontmatter must be a mapping of options` })
  return { options, body }
}

/** A markdown file's text after its frontmatter, untrimmed (a skill's content is kept as written). */
export function markdownContent(text: string): string {
  const match = FRONTMATTER.exec(text)
  return match ? text.slice(match[0].length) : text
}
