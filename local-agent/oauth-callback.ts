import { createServer, type Server } from "node:http"
import type { BrowserAuth } from "../shared/ports.ts"
import { openInBrowser } from "./browser.ts"

/** How long a browser has to come back from the authorization server, as upstream waits. */
const CALLBACK_TIMEOUT_MS = 5 * 60_000

interface Waiting {
  resolve(code: string): void
  reject(error: Error): void
  timer: ReturnType<typeof setTimeout>
}

const page = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

/**
 * OAuth in the user's browser for this computer's server: the redirect URI's port is listened on (127.0.0.1)
 * while a flow waits for its browser, as upstream's callback server; the browser is sent back with the code and
 * the flow's state, and shown a page that says whether it worked.
 */
export function loopbackBrowserAuth(): BrowserAuth & { close(): Promise<void> } {
  const listeners = new Map<string, { server: Server; waiting: Map<string, Waiting> }>()

  const stopIfIdle = (key: string) => {
    const listener = listeners.get(key)
    if (!listener || listener.waiting.size) return
    listeners.delete(key)
    listener.server.close()
  }

  async function listen(redirect: URL): Promise<Map<string, Waiting>> {
    const key = `${redirect.port}${redirect.pathname}`
    const existing = listeners.get(key)
    if (existing) return existing.waiting
    const waiting = new Map<string, Waiting>()
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", redirect.origin)
      const answer = (status: number, title: string, text: string) =>
        response.writeHead(status, { "content-type": "text/html; charset=utf-8" }).end(page(title, escapeHtml(text)))
      if (url.pathname !== redirect.pathname) return answer(404, "Not found", "This is not an authorization callback.")
      const state = url.searchParams.get("state") ?? ""
      const flow = waiting.get(state)
      if (!flow) return answer(400, "Authorization failed", "Invalid or expired state parameter.")
      waiting.delete(state)
      clearTimeout(flow.timer)
      const code = url.searchParams.get("code")
      const error = url.searchParams.get("error_description") ?? url.searchParams.get("error") ?? (code ? undefined : "No authorization code provided")
      if (error) {
        flow.reject(new Error(error))
        answer(400, "Authorization failed", error)
      } else {
        flow.resolve(code!)
        answer(200, "Authorization successful", "You can close this window and return to OpenCode.")
      }
      stopIfIdle(key)
    })
    // Known before it listens, so a second flow on the same port shares the listener instead of racing for the port.
    listeners.set(key, { server, waiting })
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(Number(redirect.port || 80), "127.0.0.1", () => resolve())
    }).catch((error) => {
      listeners.delete(key)
      throw error
    })
    return waiting
  }

  return {
    open: openInBrowser,
    async listen(redirectUri, state) {
      const redirect = new URL(redirectUri)
      const key = `${redirect.port}${redirect.pathname}`
      const waiting = await listen(redirect)
      const code = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(state)
          stopIfIdle(key)
          reject(new Error("OAuth callback timeout - authorization took too long"))
        }, CALLBACK_TIMEOUT_MS)
        waiting.set(state, { resolve, reject, timer })
      })
      // The flow awaits it after opening the browser; a failure before then is not unhandled.
      code.catch(() => {})
      return { code }
    },
    async close() {
      for (const [key, listener] of listeners) {
        for (const flow of listener.waiting.values()) {
          clearTimeout(flow.timer)
          flow.reject(new Error("The server stopped"))
        }
        listener.waiting.clear()
        stopIfIdle(key)
      }
    },
  }
}
