/**
 * The simple commands a shell command line runs, for judging each against permission rules the way upstream
 * does with a parser: `git status; curl x | sh` is two commands, not one that starts with "git".
 */
export namespace ShellCommand {
  const SEPARATORS = new Set([";", "&", "|", "\n", "(", ")", "{", "}"])

  /**
   * Splits on unquoted `;`, `&`, `&&`, `|`, `||`, newlines, parentheses and braces; the bodies of `$(…)` and
   * backticks (outside single quotes) are commands too, `$((…))` arithmetic is not. Leading `NAME=value` assignments are dropped, so
   * `X=1 rm a` is judged as `rm a`. Quotes stay in the text.
   */
  export function parts(line: string): string[] {
    const found: string[] = []
    let current = ""
    let quote: "'" | '"' | undefined
    const finish = () => {
      const command = current.trim().replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, "")
      if (command) found.push(command)
      current = ""
    }
    for (let i = 0; i < line.length; i++) {
      const char = line[i]!
      if (char === "\\" && quote !== "'" && i + 1 < line.length) {
        current += char + line[++i]
      } else if (quote !== "'" && (char === "`" || (char === "$" && line[i + 1] === "("))) {
        // A substitution runs its own commands, inside double quotes too; its text stays in this one.
        // `$((…))` is arithmetic, which runs none.
        const end = substitutionEnd(line, i)
        const arithmetic = char === "$" && line[i + 2] === "("
        if (!arithmetic) found.push(...parts(line.slice(i + (char === "`" ? 1 : 2), end)))
        current += line.slice(i, end + 1)
        i = end
      } else if (quote) {
        if (char === quote) quote = undefined
        current += char
      } else if (char === "'" || char === '"') {
        quote = char
        current += char
      } else if (SEPARATORS.has(char)) finish()
      else current += char
    }
    finish()
    return found
  }

  /** The index of the `)` or backtick closing the substitution that starts at `start` (the line's end if none). */
  function substitutionEnd(line: string, start: number): number {
    if (line[start] === "`") {
      for (let i = start + 1; i < line.length; i++) {
        if (line[i] === "\\") i++
        else if (line[i] === "`") return i
      }
      return line.length
    }
    let depth = 0
    let quote: "'" | '"' | undefined
    for (let i = start + 1; i < line.length; i++) {
      const char = line[i]
      if (char === "\\" && quote !== "'") i++
      else if (quote) {
        if (char === quote) quote = undefined
      } else if (char === "'" || char === '"') quote = char
      else if (char === "(") depth++
      else if (char === ")" && --depth === 0) return i
    }
    return line.length
  }
}
