/**
 * The simple commands a shell command line runs, for judging each against permission rules the way upstream
 * does with a parser: `git status; curl x | sh` is two commands, not one that starts with "git".
 */
export namespace ShellCommand {
  const SEPARATORS = new Set([";", "&", "|", "\n", "(", ")", "{", "}"])

  /**
   * Splits on unquoted `;`, `&`, `&&`, `|`, `||`, newlines, parentheses and braces; the bodies of `$(…)` and
   * backticks (outside single quotes) are commands too, listed after the command containing them (as upstream),
   * `$((…))` arithmetic is not. Leading `NAME=value` assignments are dropped, so `X=1 rm a` is judged as `rm a`.
   * Quotes stay in the text.
   */
  export function parts(line: string): string[] {
    const found: string[] = []
    let current = ""
    /** The commands of the current one's substitutions, which come after it. */
    let nested: string[] = []
    let quote: "'" | '"' | undefined
    const finish = () => {
      const command = current.trim().replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, "")
      if (command) found.push(command)
      found.push(...nested)
      current = ""
      nested = []
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
        if (!arithmetic) nested.push(...parts(line.slice(i + (char === "`" ? 1 : 2), end)))
        current += line.slice(i, end + 1)
        i = end
      } else if (quote) {
        if (char === quote) quote = undefined
        current += char
      } else if (char === "'" || char === '"') {
        quote = char
        current += char
      } else if (SEPARATORS.has(char) && !redirects(line, i)) finish()
      else current += char
    }
    finish()
    return found
  }

  /** Whether the `&` or `|` at `index` belongs to a redirection (`2>&1`, `<&3`, `&>out`, `>|out`) rather than ending a command. */
  function redirects(line: string, index: number): boolean {
    const before = line[index - 1]
    if (line[index] === "|") return before === ">"
    return line[index] === "&" && (before === ">" || before === "<" || line[index + 1] === ">")
  }

  /**
   * The words of a simple command (one of `parts`), split on unquoted blanks, quotes kept; redirections
   * (`> out`, `2>&1`, `<in`) are not words: `npm run build > log` is `npm`, `run`, `build`.
   */
  export function words(command: string): string[] {
    const found: string[] = []
    let current = ""
    let quote: "'" | '"' | undefined
    let redirectTarget = false
    const finish = () => {
      if (current) {
        // A bare operator (`>`, `2>`) takes the next word as its target; `>out` and `2>&1` carry theirs.
        if (redirectTarget) redirectTarget = false
        else if (/^\d*(?:[<>]|&>)/.test(current)) redirectTarget = /^\d*(?:&>>?|[<>]+[&|]?)$/.test(current)
        else found.push(current)
      }
      current = ""
    }
    for (let i = 0; i < command.length; i++) {
      const char = command[i]!
      if (char === "\\" && quote !== "'" && i + 1 < command.length) current += char + command[++i]
      else if (quote) {
        if (char === quote) quote = undefined
        current += char
      } else if (char === "'" || char === '"') {
        quote = char
        current += char
      } else if (/\s/.test(char)) finish()
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
