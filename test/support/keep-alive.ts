import { Agent } from "node:http"

/**
 * A node:http agent with one keep-alive socket, as `fetch` and the SDK reuse theirs. `opened()` counts the sockets
 * it had to open: more than one means the server closed a socket under its client.
 */
export function oneSocketAgent() {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  let opened = 0
  const createConnection = agent.createConnection.bind(agent)
  agent.createConnection = ((...args: Parameters<typeof createConnection>) => {
    opened++
    return createConnection(...args)
  }) as typeof agent.createConnection
  return { agent, opened: () => opened }
}
