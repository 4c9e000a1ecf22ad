import { z } from "zod"
import type { Ports } from "../ports.ts"
import { defineError, NotFoundError } from "../error.ts"
import { Providers } from "../provider/provider.ts"

/** The provider has no OAuth method at the index asked for (upstream's name for a flow that cannot start or finish). */
export const ProviderAuthOauthMissing = defineError(
  "ProviderAuthOauthMissing",
  z.object({ providerID: z.string(), message: z.string() }),
  400,
)

/**
 * OAuth sign-in for a provider (`/provider/:providerID/oauth/authorize|callback`) needs the provider's OAuth
 * method at the index the client names. Upstream's OAuth flows come from auth plugins; this server runs none,
 * so every provider it knows takes an API key (`Providers.authMethods`) and the lookup always fails, truthfully rather
 * than with an invented URL: 404 for a provider this server does not know, else ProviderAuthOauthMissing.
 * A plugin that brings a flow turns this into a lookup that can succeed.
 */
export async function oauthMethod(ports: Ports, directory: string, providerID: string, index: number): Promise<never> {
  const known = await Providers.authMethods(ports, directory)
  // own keys only: `constructor` or `__proto__` is no provider
  const methods = Object.hasOwn(known, providerID) ? known[providerID] : undefined
  if (!methods) throw new NotFoundError({ message: `Unknown provider: ${providerID}` })
  const offered = methods.map((method, i) => `${i}: ${method.type}`).join(", ")
  throw new ProviderAuthOauthMissing({
    providerID,
    message: `Provider ${providerID} has no OAuth method at index ${index} (its methods: ${offered}); store an API key with PUT /auth/${providerID}`,
  })
}
