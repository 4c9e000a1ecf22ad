import type { Context } from "hono"
import { PAIRING_CODE_TTL_MS } from "./objects/registry.ts"

/**
 * The edge's own pages for browsers: small, static, and served with a strict CSP (only their own nonced
 * script and style), never cached, never sending a Referer (the address may hold a pairing code).
 */
export function edgePage(c: Context, render: (nonce: string) => string): Response {
  const nonce = crypto.randomUUID().replace(/-/g, "")
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  )
  c.header("Referrer-Policy", "no-referrer")
  c.header("X-Content-Type-Options", "nosniff")
  return c.html(render(nonce))
}

function layout(nonce: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${title}</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem}code{word-break:break-all;background:#eee;padding:.2rem}</style></head>
<body>${body}</body></html>
`
}

/**
 * The page a pairing link opens. The code is read from the address by the script (never written into the
 * page by the server), sent only when the user presses the button (so link previews cannot use it up), and
 * then removed from the address bar. Once paired, the browser opens the web app with the token in the app's
 * own `?auth_token=` form (the app takes it out of the address bar); the edge's answer also set this origin's
 * HttpOnly cookie, which keeps the app signed in across reloads.
 */
export function pairPage(nonce: string): string {
  const minutes = PAIRING_CODE_TTL_MS / 60_000
  return layout(
    nonce,
    "Pair with OpenCode",
    `<h1>Pair this browser</h1>
<p>Enter the pairing code your machine printed (valid ${minutes} minutes, once).</p>
<form id="f"><input id="code" autocomplete="off" spellcheck="false" placeholder="ABCD-EFGH" required>
<button type="submit">Pair</button></form>
<p id="out" role="status"></p>
<script nonce="${nonce}">
const code = document.getElementById("code"), out = document.getElementById("out")
code.value = new URLSearchParams(location.search).get("code") || ""
history.replaceState(null, "", location.pathname)
document.getElementById("f").addEventListener("submit", async (event) => {
  event.preventDefault()
  out.textContent = "Pairing…"
  try {
    const response = await fetch("/edge/pair", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: code.value }), cache: "no-store", credentials: "same-origin" })
    const result = await response.json()
    if (!response.ok) { out.textContent = (result && result.data && result.data.message) || "Pairing failed"; return }
    code.value = ""
    out.textContent = "Paired. Opening the app…"
    location.replace(result.app + "?auth_token=" + encodeURIComponent(btoa("opencode:" + result.token)))
  } catch (error) {
    out.textContent = "Pairing failed: " + error
  }
})
</script>`,
  )
}

/** Where a browser whose pairing no longer holds (revoked, or the machine was) is sent: what to do next. */
export function pairAgainPage(nonce: string, edge: string): string {
  const escaped = edge.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
  return layout(
    nonce,
    "Pair this browser again",
    `<h1>This browser's pairing was revoked</h1>
<p>The client token this browser was paired with is no longer accepted (it, or its machine, was revoked), so the
app cannot reach your machine from here.</p>
<h2>Pair again</h2>
<ol><li>On the machine, run <code>npm run agent -- pair --edge ${escaped}</code>: it prints a new pairing code and link.</li>
<li>Open that link in this browser and press Pair.</li></ol>`,
  )
}
