import { parse, printParseErrorCode, type ParseError } from "jsonc-parser"
import { ConfigJsonError } from "./errors.ts"

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n")
  return { line: before.length, column: before[before.length - 1]!.length + 1 }
}

/**
 * JSONC as upstream reads config files: comments and trailing commas allowed. Every syntax error is collected
 * and reported as ConfigJsonError naming the file and `line:column` (not the text, which may hold secrets
 * substituted from the environment).
 */
export function parseJsonc(path: string, text: string): unknown {
  const errors: ParseError[] = []
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false })
  if (errors.length === 0) return value
  const places = errors.map((error) => {
    const { line, column } = lineColumn(text, error.offset)
    return `${printParseErrorCode(error.error)} at ${line}:${column}`
  })
  throw new ConfigJsonError({ path, message: `${path}: ${places.join("; ")}` })
}
