import { defineWebSocketHelper, WSContext } from "hono/ws"

/**
 * Hono's WebSocket upgrade for Workers, with `onOpen`. Hono's own Workers adapter never calls `onOpen` (a
 * Workers socket is open once accepted), and the shared PTY route attaches its terminal there.
 */
export const upgradeWebSocket = defineWebSocketHelper(async (c, events) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return
  const { 0: client, 1: server } = new WebSocketPair()
  const context = new WSContext({
    close: (code, reason) => server.close(code, reason),
    get protocol() {
      return server.protocol
    },
    raw: server,
    get readyState() {
      return server.readyState as 0 | 1 | 2 | 3
    },
    url: server.url ? new URL(server.url) : null,
    send: (source) => server.send(source),
  })
  if (events.onClose) server.addEventListener("close", (event) => events.onClose?.(event, context))
  if (events.onMessage) server.addEventListener("message", (event) => events.onMessage?.(event, context))
  if (events.onError) server.addEventListener("error", (event) => events.onError?.(event, context))
  server.accept()
  events.onOpen?.(new Event("open"), context)
  return new Response(null, { status: 101, webSocket: client })
})
