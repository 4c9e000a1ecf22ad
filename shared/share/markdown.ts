import MarkdownIt from "markdown-it"
import type { StateCore, Token } from "markdown-it"

/**
 * Markdown of untrusted text (model answers and reasoning) as HTML safe to put in the share page: raw HTML is
 * escaped, only http(s) and mailto links are made, images become links (the page loads nothing remote), and no
 * inline style is emitted (the page's CSP would refuse it).
 */

const ALLOWED_LINK = /^(?:https?:|mailto:)/i
/** Links on a public page to wherever a session's text points: no ranking credit, no opener, no referrer. */
const LINK_REL = "nofollow noopener noreferrer ugc"

const md = new MarkdownIt({ html: false, linkify: true, typographer: false })
// markdown-it asks this of every link, autolink and linkified URL, after normalizing it (so "JaVaScRiPt:" or
// "java\tscript:" cannot slip past); anything else, relative URLs included, stays text.
md.validateLink = (url) => ALLOWED_LINK.test(url)
md.core.ruler.push("share_safe_output", (state) => {
  for (const token of state.tokens) {
    if ((token.type === "th_open" || token.type === "td_open") && token.attrs) alignmentAsClass(token)
    else if (token.type === "inline" && token.children) token.children = safeInline(token.children, state)
  }
})

export function renderMarkdown(text: string): string {
  return md.render(text)
}

/** Table alignment comes as `style="text-align:…"`; a class does the same under a CSP without inline styles. */
function alignmentAsClass(token: Token): void {
  const style = String(token.attrGet("style") ?? "")
  token.attrs = null
  const align = style.match(/^text-align:(left|center|right)$/)?.[1]
  if (align) token.attrSet("class", `align-${align}`)
}

/**
 * A link whose target was refused (markdown-it leaves it with an empty href) becomes a plain `<span>`; the others
 * get `rel`. Images become a link to their source, or their alt text (also inside a link, where a link cannot go).
 * The children array is copied only when it holds an image.
 */
function safeInline(tokens: Token[], state: StateCore): Token[] {
  let result: Token[] | undefined
  const openLinks: Token[] = []
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!
    if (token.type === "image") {
      result ??= tokens.slice(0, index)
      imageAsLink(token, state, openLinks.length > 0, result)
      continue
    }
    if (token.type === "link_open") {
      const href = String(token.attrGet("href") ?? "")
      if (ALLOWED_LINK.test(href)) token.attrs = [["href", href], ["rel", LINK_REL]]
      else {
        token.tag = "span"
        token.attrs = null
      }
      openLinks.push(token)
    } else if (token.type === "link_close") {
      token.tag = openLinks.pop()?.tag ?? "span"
    }
    result?.push(token)
  }
  return result ?? tokens
}

function imageAsLink(image: Token, state: StateCore, insideLink: boolean, into: Token[]): void {
  const src = String(image.attrGet("src") ?? "")
  const text = new state.Token("text", "", 0)
  text.content = plainText(image.children ?? []) || "image"
  if (insideLink || !ALLOWED_LINK.test(src)) {
    into.push(text)
    return
  }
  const open = new state.Token("link_open", "a", 1)
  open.attrs = [["href", src], ["rel", LINK_REL]]
  into.push(open, text, new state.Token("link_close", "a", -1))
}

function plainText(tokens: Token[]): string {
  let text = ""
  for (const token of tokens) {
    if (token.type === "text" || token.type === "code_inline") text += token.content
    else if (token.type === "softbreak" || token.type === "hardbreak") text += " "
    else if (token.type === "image") text += plainText(token.children ?? [])
  }
  return text
}
