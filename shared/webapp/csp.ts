/**
 * The app page's Content-Security-Policy, as upstream sends it: its own origin for everything but connections
 * (the app talks to servers on other origins), and each inline script allowed by its hash, computed from the
 * page itself so a new app version keeps working.
 */
export async function contentSecurityPolicy(html: string): Promise<string> {
  const hashes: string[] = []
  for (const match of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(match[1]!))
    hashes.push(`'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`)
  }
  return [
    "default-src 'self'",
    ["script-src 'self' 'wasm-unsafe-eval'", ...hashes].join(" "),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https: blob:",
    "font-src 'self' data:",
    "media-src 'self' data:",
    "connect-src * data: blob:",
  ].join("; ")
}
