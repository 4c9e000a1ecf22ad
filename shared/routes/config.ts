import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { ConflictError, NotFoundError, PayloadTooLargeError } from "../error.ts"
import { Auth, Config, ConfigProviders, ProviderAuthMethods, ProviderList, ProviderParam } from "../schema/config.ts"
import { Configs, Credentials, SecretsUnavailableError } from "../domain/config.ts"
import { Providers } from "../provider/provider.ts"
import { oauthMethod, ProviderAuthOauthMissing } from "../domain/provider-oauth.ts"
import { OauthAuthorizeInput, OauthCallbackInput, ProviderAuthAuthorization } from "../schema/provider-oauth.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"
import { CONFIG_FILE_ERRORS } from "../config/errors.ts"

/**
 * `/config`, `/provider` and `/auth`: the directory's config (the user's files, then the stored layer), the
 * providers it declares, their credentials and OAuth. A broken config file fails the routes that read the config
 * with its ConfigJsonError, ConfigFrontmatterError or ConfigInvalidError.
 */
export function configRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/config",
      describeInstanceRoute({
        operationId: "config.get",
        summary: "Get the config",
        description:
          "The user's config files for the directory (global, OPENCODE_CONFIG, the project's, OPENCODE_CONFIG_CONTENT, " +
          ".opencode folders), merged, with what PATCH /config stored on top.",
        responses: { 200: json("The config", Config), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Configs.get(ports, c.var.directory)),
    )
    .patch(
      "/config",
      describeInstanceRoute({
        operationId: "config.update",
        summary: "Deep-merge fields into the stored config layer; answers the whole config",
        description:
          "Objects merge key by key; arrays and other values replace. Unknown fields are kept. Concurrent PATCHes " +
          "all land (each merges onto the other's result); 409 only if the config kept changing through 100 attempts. " +
          "Only the stored layer changes (never a file); the answer is the config as GET /config gives it.",
        responses: { 200: json("The merged config", Config), ...errors(PayloadTooLargeError, ConflictError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("json", Config),
      async (c) => c.json(await Configs.update(ports, c.var.directory, c.req.valid("json"))),
    )
    .get(
      "/config/providers",
      describeInstanceRoute({
        operationId: "config.providers",
        summary: "The providers a turn can use now (a credential, or a configured endpoint) and each one's default model",
        responses: { 200: json("Providers", ConfigProviders), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => {
        const view = await Providers.available(ports, c.var.directory)
        return c.json({ providers: view.providers, default: view.default })
      },
    )
    .get(
      "/provider",
      describeInstanceRoute({
        operationId: "provider.list",
        summary: "Every known provider (bundled catalogue and config), default models, and the connected ones",
        responses: { 200: json("Providers", ProviderList), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => {
        const view = await Providers.list(ports, c.var.directory)
        return c.json({ all: view.providers, default: view.default, connected: view.connected })
      },
    )
    .get(
      "/provider/auth",
      describeInstanceRoute({
        operationId: "provider.auth",
        summary: "How each provider authenticates",
        responses: { 200: json("Auth methods by provider id", ProviderAuthMethods), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Providers.authMethods(ports, c.var.directory)),
    )
    .post(
      "/provider/:providerID/oauth/authorize",
      describeInstanceRoute({
        operationId: "provider.oauth.authorize",
        summary: "Start a provider's OAuth sign-in",
        description:
          "Answers where the user signs in. No provider on this server offers OAuth (no auth plugins run; see " +
          "GET /provider/auth): a known provider answers 400 ProviderAuthOauthMissing, an unknown one 404.",
        responses: {
          200: json("Authorization URL and method", ProviderAuthAuthorization),
          ...errors(NotFoundError, ProviderAuthOauthMissing, ...CONFIG_FILE_ERRORS),
        },
      }),
      validate("param", ProviderParam),
      validate("json", OauthAuthorizeInput),
      async (c) => c.json(await oauthMethod(ports, c.var.directory, c.req.valid("param").providerID, c.req.valid("json").method)),
    )
    .post(
      "/provider/:providerID/oauth/callback",
      describeInstanceRoute({
        operationId: "provider.oauth.callback",
        summary: "Finish a provider's OAuth sign-in",
        description:
          "Stores the credentials the flow obtained. No provider on this server offers OAuth: a known provider " +
          "answers 400 ProviderAuthOauthMissing, an unknown one 404.",
        responses: { 200: json("OAuth callback processed", z.boolean()), ...errors(NotFoundError, ProviderAuthOauthMissing, ...CONFIG_FILE_ERRORS) },
      }),
      validate("param", ProviderParam),
      validate("json", OauthCallbackInput),
      async (c) => c.json(await oauthMethod(ports, c.var.directory, c.req.valid("param").providerID, c.req.valid("json").method)),
    )
    .put(
      "/auth/:providerID",
      describeInstanceRoute({
        operationId: "auth.set",
        summary: "Store a provider's credentials (never returned by any route)",
        responses: {
          200: json("Stored", z.boolean()),
          ...errors(PayloadTooLargeError, SecretsUnavailableError),
        },
      }),
      validate("param", ProviderParam),
      validate("json", Auth),
      async (c) => {
        await Credentials.set(ports, c.req.valid("param").providerID, c.req.valid("json"))
        return c.json(true)
      },
    )
    .delete(
      "/auth/:providerID",
      describeInstanceRoute({
        operationId: "auth.remove",
        summary: "Remove a provider's stored credentials (true also when there were none)",
        responses: { 200: json("Removed", z.boolean()), ...errors() },
      }),
      validate("param", ProviderParam),
      async (c) => {
        await Credentials.remove(ports, c.req.valid("param").providerID)
        return c.json(true)
      },
    )
}
