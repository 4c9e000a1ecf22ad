import { z } from "zod"

/** Bodies and answer of `POST /provider/:providerID/oauth/authorize|callback`, as the v2 SDK types them. */

const MethodIndex = z.number().int().nonnegative().describe("Auth method index (into the provider's list in GET /provider/auth)")

export const OauthAuthorizeInput = z.object({
  method: MethodIndex,
  inputs: z.record(z.string(), z.string()).optional().describe("Answers to the method's prompts, by prompt key"),
})

export const OauthCallbackInput = z.object({
  method: MethodIndex,
  code: z.string().optional().describe("The code the user copied, for methods that answer `method: \"code\"`"),
})

export const ProviderAuthAuthorization = z
  .object({
    url: z.string().describe("Where the user signs in"),
    method: z.enum(["auto", "code"]).describe("`auto`: the flow completes by itself; `code`: the user pastes a code to the callback"),
    instructions: z.string(),
  })
  .meta({ ref: "ProviderAuthAuthorization" })
