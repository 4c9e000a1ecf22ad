import { escapeHtml, formatCost, formatCount, timeElement } from "./html.ts"
import { modelName, renderMessage, totalTokens } from "./message.ts"
import { PAGE_SCRIPT } from "./page-script.ts"
import { PAGE_STYLE } from "./page-style.ts"
import type { ShareMessage, ShareSnapshot } from "./snapshot.ts"

export type { ShareMessage, ShareSnapshot } from "./snapshot.ts"

/**
 * The public, read-only page of a shared session (`/s/<id>`), rendered on the server: readable with JavaScript
 * off, kept live by one small inline script. Pure string building, no runtime APIs but `crypto.subtle`, so it runs
 * in workerd and Node alike.
 */
export namespace SharePage {
  const DESCRIPTION_CHARS = 200

  /** The whole page. `url`: the canonical share URL (og:url); `eventsPath`: the share's SSE path; `lastEventId`: the stream id this render stands at (the script resumes from it). */
  export function document(
    snapshot: ShareSnapshot,
    options: { url: string; eventsPath: string; lastEventId: string },
  ): string {
    const title = escapeHtml(titleOf(snapshot))
    const description = escapeHtml(descriptionOf(snapshot))
    let conversation = ""
    for (const shareMessage of snapshot.messages) conversation += renderMessage(shareMessage)
    return (
      `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
      `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
      `<meta name="color-scheme" content="light dark">\n` +
      `<title>${title} · OpenCode</title>\n` +
      `<meta name="description" content="${description}">\n` +
      `<meta property="og:title" content="${title}">\n` +
      `<meta property="og:description" content="${description}">\n` +
      `<meta property="og:type" content="article">\n` +
      `<meta property="og:url" content="${escapeHtml(options.url)}">\n` +
      `<meta property="og:site_name" content="OpenCode">\n` +
      `<meta name="twitter:card" content="summary">\n` +
      // An empty icon: without one the browser asks for /favicon.ico, which the CSP refuses.
      `<link rel="icon" href="data:,">\n` +
      `<style>${PAGE_STYLE}</style>\n</head>\n<body>\n` +
      `<main id="share" data-events="${escapeHtml(options.eventsPath)}" ` +
      `data-last-event-id="${escapeHtml(options.lastEventId)}" data-stream="connecting">\n` +
      `${header(snapshot)}\n<section id="conversation">${conversation}</section>\n</main>\n` +
      `<script>${PAGE_SCRIPT}</script>\n</body>\n</html>\n`
    )
  }

  /** `<header id="share-header">`: title, models used, times, the session's total tokens and cost, "working…" when busy. */
  export function header(snapshot: ShareSnapshot): string {
    let tokens = 0
    let cost = 0
    const models: string[] = []
    for (const { info } of snapshot.messages) {
      if (info.role !== "assistant") continue
      tokens += totalTokens(info.tokens)
      if (Number.isFinite(info.cost)) cost += info.cost
      const model = modelName(info)
      if (!models.includes(model)) models.push(model)
    }
    const session = snapshot.session
    if (models.length === 0 && session.model) models.push(`${session.model.providerID}/${session.model.id}`)
    return (
      `<header id="share-header"><p class="brand">OpenCode · shared session</p>` +
      `<h1>${escapeHtml(titleOf(snapshot))}</h1>` +
      (models.length ? `<p class="models">${escapeHtml(models.join(", "))}</p>` : "") +
      `<p class="stats"><span>Created ${timeElement(session.time.created)}</span>` +
      `<span>Updated ${timeElement(session.time.updated)}</span>` +
      `<span>${formatCount(tokens)} tokens</span><span>${formatCost(cost)}</span></p>` +
      (snapshot.busy ? `<p class="busy" role="status">working…</p>` : "") +
      `</header>`
    )
  }

  /** `<article id="m-<messageID>" class="message user|assistant">` for one message with its parts. */
  export function message(shareMessage: ShareMessage): string {
    return renderMessage(shareMessage)
  }

  let policy: Promise<string> | undefined

  /**
   * The share page's Content-Security-Policy: nothing but its own inline script and style (by hash), its event
   * stream, and data: images (the empty icon). Remote images in session text are never loaded.
   */
  export function contentSecurityPolicy(): Promise<string> {
    policy ??= Promise.all([sha256(PAGE_SCRIPT), sha256(PAGE_STYLE)]).then(([script, style]) =>
      [
        "default-src 'none'",
        `script-src '${script}'`,
        `style-src '${style}'`,
        "connect-src 'self'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
    )
    return policy
  }

  function titleOf(snapshot: ShareSnapshot): string {
    return snapshot.session.title.trim() || "Untitled session"
  }

  /** The first thing the user wrote, on one line, for link previews. */
  function descriptionOf(snapshot: ShareSnapshot): string {
    for (const { info, parts } of snapshot.messages) {
      if (info.role !== "user") continue
      for (const part of parts) {
        if (part.type !== "text" || part.synthetic || part.ignored) continue
        const text = part.text.replace(/\s+/g, " ").trim()
        if (text) return truncate(text, DESCRIPTION_CHARS)
      }
    }
    return "A shared OpenCode session."
  }

  function truncate(text: string, max: number): string {
    if (text.length <= max) return text
    let end = max - 1
    // Never split a surrogate pair (an emoji) in two.
    if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--
    return `${text.slice(0, end).trimEnd()}…`
  }

  async function sha256(text: string): Promise<string> {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))
    let binary = ""
    for (const byte of digest) binary += String.fromCharCode(byte)
    return `sha256-${btoa(binary)}`
  }
}
