/** What a browser gets when the app's origin cannot be reached and nothing of it is cached: what to do instead. */
export function unreachablePage(appUrl: string, serverUrl: string): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenCode: the web app is unavailable</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style>
</head><body>
<h1>The OpenCode web app could not be loaded</h1>
<p>This server is running, but the app it serves comes from <code>${escape(appUrl)}</code>, which could not be reached.</p>
<p>You can still use this server:</p>
<ul>
<li>from a terminal: <code>opencode attach ${escape(serverUrl)}</code></li>
<li>from another app origin: start the server with <code>OPENCODE_APP_URL</code> pointing at one you can reach</li>
</ul>
</body></html>
`
}
