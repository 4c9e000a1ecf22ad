import { Parser } from "htmlparser2"

/**
 * A page's content as a small tree, for the Markdown and text renderers (./convert.ts). htmlparser2 tokenizes
 * (entities, raw-text elements such as script and style, implied end tags, void elements) in one linear pass,
 * with no DOM, so it runs in workerd as on Node; this keeps only what a reader reads.
 */

export interface HtmlElement {
  tag: string
  /** Only the attributes the renderers use: href, src, alt, class, start. */
  attrs: Partial<Record<(typeof KEPT_ATTRIBUTES)[number], string>>
  children: HtmlNode[]
  /** A block element is somewhere below: an inline element holding one is laid out as a container. */
  hasBlock: boolean
}
export type HtmlNode = HtmlElement | string

export interface HtmlTree {
  root: HtmlElement
  /** The first `<base href>`, as written; links resolve against it. */
  baseHref?: string
}

/** Elements laid out as blocks (their own lines), as browsers' default styles do. */
export const BLOCK = new Set([
  "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dir", "div", "dl",
  "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
  "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "search", "section", "summary", "table",
  "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
])

/**
 * What a reader of the page never reads, dropped with everything inside: the head's metadata, code, styling,
 * embedded frames, objects and graphics, and form controls.
 */
const DROPPED = new Set([
  "title", "meta", "link", "base", "script", "style", "noscript", "template", "iframe", "frame", "frameset",
  "noframes", "object", "embed", "applet", "svg", "math", "canvas", "audio", "video", "map", "button", "input",
  "select", "textarea", "datalist", "dialog",
])

const KEPT_ATTRIBUTES = ["href", "src", "alt", "class", "start"] as const
/** Most elements keep no attribute: they share this one (never written to) rather than hold one each. */
const NO_ATTRIBUTES: HtmlElement["attrs"] = Object.freeze({})

/** Deeper elements are flattened into the one at this depth, so a page of endless nesting cannot exhaust the stack. */
const MAX_DEPTH = 200

/**
 * htmlparser2 keeps its open elements in an array it unshifts and searches at every end tag, so its work grows with
 * their number squared. The page goes in in chunks that end before a `<`, and past this many open at once (no real
 * page comes near) the parser starts afresh there: what follows lands at the top level, its text kept.
 */
const MAX_OPEN = 256
const CHUNK_CHARS = 16 * 1024

/** A stack entry for an element that is not in the tree: inside a dropped one, or past MAX_DEPTH. */
const DROP = 0
const FLAT = 1

export function parseHtml(html: string): HtmlTree {
  const root: HtmlElement = { tag: "", attrs: NO_ATTRIBUTES, children: [], hasBlock: false }
  const tree: HtmlTree = { root }
  const stack: (HtmlElement | typeof DROP | typeof FLAT)[] = []
  /** The kept elements that are open, innermost last. */
  const path: HtmlElement[] = []
  let dropping = 0
  const current = () => path.at(-1) ?? root

  const handler = {
    onopentag(tag: string, attributes: Record<string, string>) {
      if (tag === "base" && tree.baseHref === undefined && attributes.href) tree.baseHref = attributes.href
      if (dropping > 0 || DROPPED.has(tag)) {
        dropping++
        stack.push(DROP)
        return
      }
      if (path.length >= MAX_DEPTH) {
        stack.push(FLAT)
        return
      }
      let attrs = NO_ATTRIBUTES
      for (const name of KEPT_ATTRIBUTES) {
        if (attributes[name] === undefined) continue
        if (attrs === NO_ATTRIBUTES) attrs = {}
        attrs[name] = attributes[name]
      }
      const element: HtmlElement = { tag, attrs, children: [], hasBlock: false }
      if (BLOCK.has(tag)) {
        // Ancestors already marked have theirs marked too: each element is marked once.
        for (let index = path.length - 1; index >= 0 && !path[index]!.hasBlock; index--) path[index]!.hasBlock = true
      }
      current().children.push(element)
      stack.push(element)
      path.push(element)
    },
    ontext(text: string) {
      if (dropping > 0) return
      const children = current().children
      const last = children.length - 1
      if (typeof children[last] === "string") children[last] += text
      else children.push(text)
    },
    // htmlparser2 closes every element it opened (implied ends and the document's end included), innermost first.
    onclosetag() {
      const entry = stack.pop()
      if (entry === DROP) dropping--
      else if (entry !== FLAT) path.pop()
    },
  }
  let parser = new Parser(handler)
  for (let offset = 0; offset < html.length; ) {
    const tag = html.indexOf("<", offset + CHUNK_CHARS)
    const end = tag < 0 ? html.length : tag
    parser.write(html.slice(offset, end))
    offset = end
    if (stack.length > MAX_OPEN) {
      parser.end()
      parser = new Parser(handler)
    }
  }
  parser.end()
  return tree
}
