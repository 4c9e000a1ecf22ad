import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { NotFoundError, PayloadTooLargeError } from "../error.ts"
import { McpAddInput, McpStatus, McpStatusMap } from "../schema/app-info.ts"
import { Mcp, McpAuth, McpBrowserAuthUnavailableError, McpUnsupportedOAuthError } from "../domain/mcp.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"
import { CONFIG_FILE_ERRORS } from "../config/errors.ts"

const NameParam = z.object({ name: z.string().min(1) })

const TRUTH =
  "Local servers run on the machine (stdio), remote ones are called from this server (streamable HTTP, then SSE). " +
  "A server reports `connected`, `failed` with the reason, `needs_auth` when it answered 401, or `disabled` when switched off."

/** `/mcp`: the MCP servers, their status, and switching them on and off. */
export function mcpRoutes(ports: Ports) {
  return new Hono<AppEnv>()
    .get(
      "/",
      describeInstanceRoute({
        operationId: "mcp.status",
        summary: "Status of every MCP server, by name",
        description: TRUTH,
        responses: { 200: json("Statuses by server name", McpStatusMap), ...errors(...CONFIG_FILE_ERRORS) },
      }),
      async (c) => c.json(await Mcp.statuses(ports, c.var.directory)),
    )
    .post(
      "/",
      describeInstanceRoute({
        operationId: "mcp.add",
        summary: "Register (or replace) an MCP server; answers every server's status",
        description: TRUTH,
        responses: { 200: json("Statuses by server name", McpStatusMap), ...errors(PayloadTooLargeError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("json", McpAddInput),
      async (c) => {
        const { name, config } = c.req.valid("json")
        return c.json(await Mcp.add(ports, c.var.directory, name, config))
      },
    )
    .post(
      "/:name/connect",
      describeInstanceRoute({
        operationId: "mcp.connect",
        summary: "Switch an MCP server on and connect it again now",
        responses: { 200: json("Done", z.boolean()), ...errors(NotFoundError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("param", NameParam),
      async (c) => {
        await Mcp.connect(ports, c.var.directory, c.req.valid("param").name)
        return c.json(true)
      },
    )
    .post(
      "/:name/auth",
      describeInstanceRoute({
        operationId: "mcp.auth.start",
        summary: "Start OAuth with a remote MCP server: registers the client and answers the URL to authorize at",
        responses: {
          200: json("OAuth flow started", z.object({ authorizationUrl: z.string(), oauthState: z.string() })),
          ...errors(McpUnsupportedOAuthError, NotFoundError, ...CONFIG_FILE_ERRORS),
        },
      }),
      validate("param", NameParam),
      async (c) => c.json(await McpAuth.start(ports, c.var.directory, c.req.valid("param").name)),
    )
    .post(
      "/:name/auth/callback",
      describeInstanceRoute({
        operationId: "mcp.auth.callback",
        summary: "Finish OAuth with the code the authorization server gave; the server is then connected with its token",
        responses: { 200: json("The server's status", McpStatus), ...errors(McpUnsupportedOAuthError, NotFoundError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("param", NameParam),
      validate("json", z.object({ code: z.string().min(1) })),
      async (c) => c.json(await McpAuth.callback(ports, c.var.directory, c.req.valid("param").name, c.req.valid("json").code)),
    )
    .post(
      "/:name/auth/authenticate",
      describeInstanceRoute({
        operationId: "mcp.auth.authenticate",
        summary: "Authorize a remote MCP server in the browser: opens the authorization URL and waits for the browser to come back",
        description:
          "As upstream: the server listens at the redirect URI (127.0.0.1, the config's `oauth.redirectUri` or `callbackPort`), opens the URL " +
          "with the computer's opener (when none opens, the event `mcp.browser.open.failed` carries the URL), and answers the server's status " +
          "once the code came back. Only a server on the user's own computer can; the edge answers McpBrowserAuthUnavailableError " +
          "(use `POST /mcp/:name/auth` and `/auth/callback` there).",
        responses: {
          200: json("OAuth authentication completed", McpStatus),
          ...errors(McpUnsupportedOAuthError, McpBrowserAuthUnavailableError, NotFoundError, ...CONFIG_FILE_ERRORS),
        },
      }),
      validate("param", NameParam),
      async (c) => c.json(await McpAuth.authenticate(ports, c.var.directory, c.req.valid("param").name)),
    )
    .delete(
      "/:name/auth",
      describeInstanceRoute({
        operationId: "mcp.auth.remove",
        summary: "Forget a remote MCP server's OAuth client and tokens",
        responses: { 200: json("OAuth credentials removed", z.object({ success: z.literal(true) })), ...errors(McpUnsupportedOAuthError, NotFoundError) },
      }),
      validate("param", NameParam),
      async (c) => {
        await McpAuth.remove(ports, c.var.directory, c.req.valid("param").name)
        return c.json({ success: true as const })
      },
    )
    .post(
      "/:name/disconnect",
      describeInstanceRoute({
        operationId: "mcp.disconnect",
        summary: "Switch an MCP server off and close it (it then reports disabled; a local server's process ends)",
        responses: { 200: json("Done", z.boolean()), ...errors(NotFoundError, ...CONFIG_FILE_ERRORS) },
      }),
      validate("param", NameParam),
      async (c) => {
        await Mcp.disconnect(ports, c.var.directory, c.req.valid("param").name)
        return c.json(true)
      },
    )
}
