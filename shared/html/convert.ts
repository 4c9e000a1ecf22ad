import { BLOCK, parseHtml, type HtmlElement, type HtmlNode } from "./tree.ts"

/** Stands for a `<br>` until whitespace is collapsed (the page's own text never holds it: it is removed there). */
const BREAK = "\uE000"
/** HTML's whitespace, which collapses; a no-break space is text. */
const SPACES = /[ \t\n\r\f]+/g
const HEADING = /^h([1-6])$/
const LISTS = new Set(["ul", "ol", "menu", "dir"])
/**
 * Characters the Markdown may add beyond what the page itself holds, or go through again: absolute URLs (a long
 * `<base>` makes every `<a href=x>` long), and the lines of nested quotes and lists, prefixed once per level. Past
 * it, links keep only their text and nesting its lines as they are, so a hostile page can neither turn 5 MB into
 * gigabytes nor keep the renderer busy for minutes.
 */
const ALLOWANCE_CHARS = 8 * 1024 * 1024

/**
 * Leading whitespace (line breaks included), the content, trailing whitespace. A loop, not a regular expression:
 * one anchored at the end backtracks through every run of spaces, quadratic in a long one.
 */
function edges(text: string): [string, string, string] {
  let start = 0
  let end = text.length
  while (start < end && isSpace(text.charCodeAt(start))) start++
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--
  return [text.slice(0, start), text.slice(start, end), text.slice(end)]
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d || code === 0x0c || code === 0xe000
}

function resolve(url: string, base: string): string | undefined {
  try {
    return new URL(url.trim(), base).href
  } catch {
    return undefined
  }
}

/** Characters of the page's text that Markdown would read as syntax, escaped. */
function escapeInline(text: string): string {
  if (!/[\\`*[\]~_<&]/.test(text)) return text
  return text
    .replace(/[\\`*[\]]/g, "\\$&")
    .replace(/~~/g, "\\~\\~")
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, "\\_")
    .replace(/<(?=[A-Za-z/!?])/g, "\\<")
    .replace(/&(?=#?\w+;)/g, "\\&")
}

/** A paragraph's lines that would start a heading, list, quote or rule, escaped. */
function escapeLineStarts(text: string): string {
  if (!/^[#>+=\d-]/m.test(text)) return text
  return text.replace(/^(#{1,6}(?=[ \t]|$)|[-+>](?=[ \t]|$)|[-=]+(?=[ \t]*$))/gm, "\\$1").replace(/^(\d+)([.)])(?=[ \t]|$)/gm, "$1\\$2")
}

/** A URL as a Markdown link destination: the characters that would end it early, percent-encoded. */
function destination(url: string): string {
  return url.replace(/[ ()<>]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** The text under a node as written (a `<br>` is a newline): what code shows. */
function rawText(node: HtmlNode): string {
  if (typeof node === "string") return node.replaceAll(BREAK, "")
  if (node.tag === "br") return "\n"
  return node.children.map(rawText).join("")
}

/** The longest run of backticks in code: its fence must be longer. */
function longestBackticks(code: string): number {
  let longest = 0
  for (const run of code.match(/`+/g) ?? []) longest = Math.max(longest, run.length)
  return longest
}

/**
 * Lays the tree out as Markdown or as plain text: the same blocks either way (paragraphs, headings, lists, code,
 * quotes, tables, separated by blank lines), with Markdown's syntax or without it.
 */
class Renderer {
  /** Links and images resolved so far: pages repeat the same few (navigation), and resolving costs. */
  private readonly resolved = new Map<string, string | undefined>()
  private allowance = ALLOWANCE_CHARS

  constructor(
    private readonly markdown: boolean,
    /** What links and images resolve against (Markdown only: text has neither). */
    private readonly base: string,
  ) {}

  /** A container's blocks in order; each run of inline content between them is a paragraph. */
  blocks(children: HtmlNode[]): string[] {
    const out: string[] = []
    let run = ""
    for (const child of children) {
      // An inline element around blocks is a container, except a link, which stays one link with their text.
      const isBlock = typeof child !== "string" && (BLOCK.has(child.tag) || (child.hasBlock && !(child.tag === "a" && child.attrs.href)))
      if (!isBlock) {
        run += this.inline(child)
        continue
      }
      this.flush(run, out)
      run = ""
      for (const block of this.block(child)) out.push(block)
    }
    this.flush(run, out)
    return out
  }

  /** Whether `chars` more characters fit in the allowance (taking them if so). */
  private afford(chars: number): boolean {
    if (chars > this.allowance) return false
    this.allowance -= chars
    return true
  }

  private flush(run: string, out: string[]): void {
    const paragraph = this.paragraph(run)
    if (paragraph) out.push(paragraph)
  }

  private block(element: HtmlElement): string[] {
    const heading = HEADING.exec(element.tag)
    if (heading) {
      const text = this.line(element.children)
      return text ? [this.markdown ? `${"#".repeat(Number(heading[1]))} ${text}` : text] : []
    }
    if (LISTS.has(element.tag)) {
      const list = this.list(element)
      return list ? [list] : []
    }
    switch (element.tag) {
      case "pre":
        return this.codeBlock(element)
      case "blockquote": {
        const inner = this.blocks(element.children).join("\n\n")
        if (!inner) return []
        return [this.markdown ? this.prefixLines(inner, "> ", ">") : inner]
      }
      case "table":
        return this.table(element)
      case "hr":
        return this.markdown ? ["---"] : []
      default:
        return this.blocks(element.children)
    }
  }

  private inlineAll(children: HtmlNode[]): string {
    let out = ""
    for (const child of children) out += this.inline(child)
    return out
  }

  private inline(node: HtmlNode): string {
    if (typeof node === "string") {
      const text = node.replaceAll(BREAK, "")
      return this.markdown ? escapeInline(text) : text
    }
    // A block inside inline content (a link around a card): its text, set apart by spaces.
    if (BLOCK.has(node.tag)) return ` ${this.inlineAll(node.children)} `
    switch (node.tag) {
      case "br":
        return BREAK
      case "a":
        return this.link(node)
      case "img":
        return this.image(node)
      case "strong":
      case "b":
        return this.wrap("**", this.inlineAll(node.children))
      case "em":
      case "i":
        return this.wrap("*", this.inlineAll(node.children))
      case "del":
      case "s":
      case "strike":
        return this.wrap("~~", this.inlineAll(node.children))
      case "code":
      case "kbd":
      case "samp":
      case "tt":
        return this.codeSpan(node)
      default:
        return this.inlineAll(node.children)
    }
  }

  /** `open` and `close` around the content, its edge whitespace left outside (`** a**` is no emphasis). */
  private wrap(open: string, inner: string, close = open): string {
    const [lead, content, trail] = edges(inner)
    if (!this.markdown || !content) return inner
    return `${lead}${open}${content}${close}${trail}`
  }

  /** Where a link or image leads, absolute; undefined when nowhere a reader can go (a script, inline data, no URL). */
  private target(url: string | undefined): string | undefined {
    if (url === undefined) return undefined
    if (!this.resolved.has(url)) {
      const absolute = resolve(url, this.base)
      this.resolved.set(url, absolute && !/^(?:javascript|data):/i.test(absolute) ? destination(absolute) : undefined)
    }
    return this.resolved.get(url)
  }

  private link(element: HtmlElement): string {
    const inner = this.inlineAll(element.children)
    const href = this.markdown ? this.target(element.attrs.href) : undefined
    return href && this.afford(href.length) ? this.wrap("[", inner, `](${href})`) : inner
  }

  private image(element: HtmlElement): string {
    const src = this.markdown ? this.target(element.attrs.src) : undefined
    if (!src || !this.afford(src.length)) return ""
    const alt = (element.attrs.alt ?? "").replace(SPACES, " ").trim()
    return `![${alt.replace(/[\\[\]]/g, "\\$&")}](${src})`
  }

  private codeSpan(element: HtmlElement): string {
    const code = rawText(element).replace(SPACES, " ")
    if (!this.markdown || !code.trim()) return code
    const fence = "`".repeat(longestBackticks(code) + 1)
    const pad = code.startsWith("`") || code.endsWith("`") ? " " : ""
    return `${fence}${pad}${code}${pad}${fence}`
  }

  private codeBlock(element: HtmlElement): string[] {
    // Browsers drop the newline right after <pre>; trailing blank lines show nothing.
    const code = rawText(element).replace(/^\r?\n/, "").trimEnd()
    if (!code.trim()) return []
    if (!this.markdown) return [code]
    const first = element.children.find((child): child is HtmlElement => typeof child !== "string")
    const classes = `${element.attrs.class ?? ""} ${first?.tag === "code" ? (first.attrs.class ?? "") : ""}`
    const language = /(?:^|\s)(?:language|lang)-([\w#+.-]+)/.exec(classes)?.[1] ?? ""
    const fence = "`".repeat(Math.max(3, longestBackticks(code) + 1))
    return [`${fence}${language}\n${code}\n${fence}`]
  }

  /** Inline content collapsed as browsers do: runs of whitespace are one space, `<br>` a line break, edges trimmed. */
  private collapse(raw: string): string {
    const spaced = raw.replace(SPACES, " ")
    return edges(spaced.includes(BREAK) ? spaced.replace(/ ?\uE000 ?/g, "\n") : spaced)[1]
  }

  private paragraph(raw: string): string {
    const text = this.collapse(raw)
    if (!this.markdown) return text
    const escaped = escapeLineStarts(text)
    // A Markdown line break is two spaces before the newline (an empty line, from <br><br>, needs none).
    return escaped.includes("\n") ? escaped.replace(/([^\n])\n/g, "$1  \n") : escaped
  }

  /** Inline content on one line: a heading, a table cell. */
  private line(children: HtmlNode[]): string {
    return this.collapse(this.inlineAll(children)).replaceAll("\n", " ")
  }

  /** Items on their own lines, `- ` or numbered in Markdown (their further lines indented under the marker). */
  private list(element: HtmlElement): string {
    const ordered = element.tag === "ol"
    let number = Number.parseInt(element.attrs.start ?? "1", 10)
    if (Number.isNaN(number)) number = 1
    const items: string[] = []
    let indent = ""
    for (const child of element.children) {
      const nested = typeof child !== "string" && LISTS.has(child.tag)
      const parts = typeof child !== "string" && child.tag === "li" ? this.blocks(child.children) : this.blocks([child])
      if (parts.length === 0) continue
      // A list right inside a list (not in an item, as pages often write it) belongs to the item before it.
      if (nested && items.length > 0) {
        items[items.length - 1] += `\n${this.prefixLines(parts.join("\n"), indent)}`
        continue
      }
      // In an item, a nested list follows its text directly; other blocks keep a blank line between them.
      const item = parts.reduce((joined, part) => `${joined}${this.isList(part) ? "\n" : "\n\n"}${part}`)
      if (!this.markdown) {
        items.push(item)
        continue
      }
      const marker = ordered ? `${number++}. ` : "- "
      indent = " ".repeat(marker.length)
      const newline = item.indexOf("\n")
      items.push(newline < 0 ? marker + item : `${marker}${item.slice(0, newline)}\n${this.prefixLines(item.slice(newline + 1), indent)}`)
    }
    return items.join("\n")
  }

  private isList(block: string): boolean {
    return !this.markdown || /^(?:- |\d+\. )/.test(block)
  }

  /** Each line after `prefix` (an empty one is `empty`); the text as it is once the allowance is spent. */
  private prefixLines(text: string, prefix: string, empty = ""): string {
    if (!this.afford(text.length)) return text
    const lines = text.split("\n")
    if (!this.afford(prefix.length * lines.length)) return text
    return lines.map((line) => (line ? prefix + line : empty)).join("\n")
  }

  /**
   * A table of text cells: a GitHub-flavoured Markdown table (the first row its header), or tab-separated text. A
   * table whose cells hold blocks lays a page out, and its cells are rendered as blocks in order.
   */
  private table(element: HtmlElement): string[] {
    const rows: HtmlElement[][] = []
    const captions: HtmlElement[] = []
    const collect = (parent: HtmlElement) => {
      for (const child of parent.children) {
        if (typeof child === "string") continue
        if (child.tag === "tr") rows.push(child.children.filter((cell): cell is HtmlElement => typeof cell !== "string" && (cell.tag === "td" || cell.tag === "th")))
        else if (child.tag === "thead" || child.tag === "tbody" || child.tag === "tfoot") collect(child)
        else if (child.tag === "caption") captions.push(child)
      }
    }
    collect(element)
    if (rows.some((row) => row.some((cell) => cell.hasBlock))) return this.blocks(element.children)
    const cells = rows.map((row) => row.map((cell) => this.line(cell.children)))
    const width = cells.reduce((widest, row) => Math.max(widest, row.length), 0)
    if (width === 0) return []
    const caption = this.blocks(captions)
    if (!this.markdown) return [...caption, cells.map((row) => row.join("\t")).join("\n")]
    // Only the header and delimiter rows need every column: a shorter body row gets empty cells as it is read.
    const line = (row: string[]) => `| ${row.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`
    const header = Array.from({ length: width }, (_, index) => cells[0]![index] ?? "")
    return [...caption, [line(header), line(Array(width).fill("---")), ...cells.slice(1).map(line)].join("\n")]
  }
}

/**
 * A fetched web page as an agent reads it: Markdown (headings, paragraphs, emphasis, links and images made
 * absolute, lists, code blocks, quotes, tables) or plain text (the same blocks without the syntax). What carries
 * no readable content (scripts, styles, frames, embeds, graphics, form controls) is dropped (./tree.ts).
 * One pass to parse and one to render, so a page at webfetch's 5 MB limit converts in about a second.
 */
export namespace Html {
  export function markdown(html: string, pageUrl: string): string {
    const tree = parseHtml(html)
    const base = (tree.baseHref !== undefined && resolve(tree.baseHref, pageUrl)) || pageUrl
    return new Renderer(true, base).blocks(tree.root.children).join("\n\n")
  }

  export function text(html: string): string {
    return new Renderer(false, "").blocks(parseHtml(html).root.children).join("\n\n")
  }
}
