/**
 * A command template filled in as upstream fills it (opencode 1.18's SessionPrompt.command); pure text work, the
 * shell and the files are the caller's.
 */
export namespace CommandTemplate {
  /** Words, "double" or 'single' quoted strings, and `[Image N]` placeholders, as upstream splits arguments. */
  const ARGUMENT = /(?:\[Image\s+\d+\]|"[^"]*"|'[^']*'|[^\s"']+)/gi
  const PLACEHOLDER = /\$(\d+)/g
  const SHELL = /!`([^`]+)`/g
  /** `@path` not preceded by a word character or a backtick; a trailing period is not part of it. */
  const FILE_REFERENCE = /(?<![\w`])@(\.?[^\s`,.]*(?:\.[^\s`,.]+)*)/g

  /**
   * `$1`…`$n` become the arguments (the highest-numbered placeholder takes the rest of them, a missing one is
   * empty), `$ARGUMENTS` the whole argument text; a template with neither gets the arguments appended after a
   * blank line.
   */
  export function fill(template: string, argumentText: string): string {
    const args = (argumentText.match(ARGUMENT) ?? []).map((arg) => arg.replace(/^["']|["']$/g, ""))
    const last = Math.max(0, ...[...template.matchAll(PLACEHOLDER)].map((match) => Number(match[1])))
    const numbered = template.replaceAll(PLACEHOLDER, (_, digits: string) => {
      const position = Number(digits)
      if (position - 1 >= args.length) return ""
      return position === last ? args.slice(position - 1).join(" ") : args[position - 1]!
    })
    const text = numbered.replaceAll("$ARGUMENTS", () => argumentText)
    if (last === 0 && !template.includes("$ARGUMENTS") && argumentText.trim()) return `${text}\n\n${argumentText}`
    return text
  }

  /** The shell commands of the text's `` !`command` `` substitutions, in order. */
  export function shellCommands(text: string): string[] {
    return [...text.matchAll(SHELL)].map((match) => match[1]!)
  }

  /** The text with each `` !`command` `` replaced by its output, in order. */
  export function withShellOutputs(text: string, outputs: string[]): string {
    let index = 0
    return text.replace(SHELL, () => outputs[index++] ?? "")
  }

  /** The distinct `@path` references of the text (paths as written, `~/` included). */
  export function fileReferences(text: string): string[] {
    return [...new Set([...text.matchAll(FILE_REFERENCE)].map((match) => match[1]!).filter(Boolean))]
  }
}
