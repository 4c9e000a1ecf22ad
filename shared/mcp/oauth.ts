import { auth, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js"
import type { OAuthClientInformationMixed, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js"
import type { Ports } from "../ports.ts"
import type { McpConfig } from "../schema/app-info.ts"

type RemoteConfig = Extract<McpConfig, { type: "remote" }>

/** Where a server's OAuth state is kept, sealed. */
export type McpCredentials = Pick<Ports, "records" | "sealer">

/** What an OAuth flow with one server keeps, sealed: the registered client, the tokens, the flow under way. */
interface Stored {
  client?: OAuthClientInformationMixed
  tokens?: OAuthTokens
  verifier?: string
  state?: string
}

const key = (name: string) => `mcp-auth/${name}`
/** Where upstream has the authorization server send the browser back, unless the config says otherwise. */
const DEFAULT_CALLBACK_PORT = 19876
const CALLBACK_PATH = "/mcp/oauth/callback"

async function read(ports: McpCredentials, name: string): Promise<Stored> {
  const sealed = await ports.records.get<string>(key(name))
  return sealed ? (JSON.parse(await ports.sealer.open(sealed)) as Stored) : {}
}

async function write(ports: McpCredentials, name: string, stored: Stored): Promise<void> {
  await ports.records.put(key(name), await ports.sealer.seal(JSON.stringify(stored)))
}

/**
 * The SDK's view of a server's stored OAuth state. `redirected` is handed the authorization URL of a flow being
 * started; without it (a connection) no flow starts: nothing of one is stored and the SDK reports the server
 * unauthorized, while a refresh of the access token is saved as any token.
 */
function provider(ports: McpCredentials, name: string, config: RemoteConfig, redirected?: (url: URL) => void): OAuthClientProvider {
  const options = config.oauth || {}
  const redirectUri = McpOAuth.redirectUri(config)
  const update = async (change: Partial<Stored>) => write(ports, name, { ...(await read(ports, name)), ...change })
  const preset = options.clientId ? { client_id: options.clientId, ...(options.clientSecret ? { client_secret: options.clientSecret } : {}) } : undefined
  return {
    get redirectUrl() {
      return redirectUri
    },
    get clientMetadata() {
      return {
        client_name: "OpenCode",
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: options.clientSecret ? "client_secret_post" : "none",
        ...(options.scope ? { scope: options.scope } : {}),
      }
    },
    async state() {
      const state = crypto.randomUUID()
      if (redirected) await update({ state })
      return state
    },
    clientInformation: async () => preset ?? (await read(ports, name)).client,
    saveClientInformation: (client) => update({ client }),
    tokens: async () => (await read(ports, name)).tokens,
    saveTokens: (tokens) => update({ tokens }),
    redirectToAuthorization: (url) => redirected?.(url),
    saveCodeVerifier: async (verifier) => {
      if (redirected) await update({ verifier })
    },
    async codeVerifier() {
      const verifier = (await read(ports, name)).verifier
      if (!verifier) throw new Error(`No OAuth flow was started for MCP server ${name}`)
      return verifier
    },
    // The authorization server refused the refresh token (or the client): forget what it refused.
    async invalidateCredentials(scope) {
      const stored = await read(ports, name)
      if (scope === "all" || scope === "tokens") delete stored.tokens
      if (scope === "all" || scope === "client") delete stored.client
      if (scope === "all" || scope === "verifier") delete stored.verifier
      await write(ports, name, stored)
    },
  }
}

/**
 * OAuth with remote MCP servers, as upstream's `/mcp/:name/auth*` routes: the server registers the client
 * (dynamic registration, unless the config names `oauth.clientId`), answers the authorization URL, takes the
 * code back, and keeps the tokens sealed; every later connection to that server authorizes with them.
 */
export namespace McpOAuth {
  /** Where the authorization server sends the browser back: the config's `redirectUri`, else a loopback URL as upstream's. */
  export function redirectUri(config: RemoteConfig): string {
    const options = config.oauth || {}
    return options.redirectUri ?? `http://127.0.0.1:${options.callbackPort ?? DEFAULT_CALLBACK_PORT}${CALLBACK_PATH}`
  }

  export async function start(ports: Ports, name: string, config: RemoteConfig): Promise<{ authorizationUrl: string; oauthState: string }> {
    await write(ports, name, { client: (await read(ports, name)).client })
    let authorizationUrl: URL | undefined
    const result = await auth(provider(ports, name, config, (url) => (authorizationUrl = url)), { serverUrl: config.url, fetchFn: ports.fetch, ...(config.oauth && config.oauth.scope ? { scope: config.oauth.scope } : {}) })
    const oauthState = (await read(ports, name)).state ?? ""
    // a server that lets us in without signing in answers an empty URL, as upstream's
    if (result === "AUTHORIZED" || !authorizationUrl) return { authorizationUrl: "", oauthState }
    return { authorizationUrl: authorizationUrl.toString(), oauthState }
  }

  /** Trades the code for tokens. */
  export async function finish(ports: Ports, name: string, config: RemoteConfig, code: string): Promise<void> {
    await auth(provider(ports, name, config, () => {}), { serverUrl: config.url, authorizationCode: code, fetchFn: ports.fetch })
  }

  /** Forgets the server's client and tokens. */
  export async function remove(ports: Ports, name: string): Promise<void> {
    await ports.records.delete(key(name))
  }

  /**
   * What a connection to the server authorizes with: its stored tokens, refreshed by the SDK when the server
   * answers 401 (as upstream's transport does); none before the server was authorized.
   */
  export async function connectionProvider(ports: McpCredentials, name: string, config: McpConfig): Promise<OAuthClientProvider | undefined> {
    if (config.type !== "remote" || config.oauth === false) return undefined
    const stored = await read(ports, name).catch(() => ({}) as Stored)
    return stored.tokens ? provider(ports, name, config) : undefined
  }
}
