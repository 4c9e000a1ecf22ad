import { ForbiddenError } from "../../shared/error.ts"
import type { NetworkRelay } from "../../shared/machine.ts"
import { isPrivateHost } from "../../shared/net.ts"

/** Requests to the user's own machine or network, made from here for the edge (a local model provider). */
export function createNetworkRelay(): NetworkRelay {
  return {
    async fetch(request) {
      if (!isPrivateHost(request.url)) {
        throw new ForbiddenError({ message: "The machine relays requests to private and loopback addresses only" })
      }
      return fetch(request.url, { method: request.method, headers: request.headers, body: request.body })
    },
  }
}
