import { Hono } from "hono"
import { openAPIRouteHandler } from "hono-openapi"
import { VALIDATION_ERROR_RESPONSE } from "./openapi.ts"
import type { AppEnv } from "./env.ts"
import type { Ports } from "./ports.ts"
import { NotFoundError } from "./error.ts"
import { basicAuth } from "./middleware/auth.ts"
import { bodyLimit } from "./middleware/body-limit.ts"
import { drainUnreadBody } from "./middleware/drain-body.ts"
import { corsMiddleware } from "./middleware/cors.ts"
import { resolveDirectory } from "./middleware/directory.ts"
import { errorHandler } from "./middleware/error.ts"
import { requestLog } from "./middleware/logger.ts"
import { appInfoRoutes } from "./routes/app-info.ts"
import { mcpRoutes } from "./routes/mcp.ts"
import { sessionExtraRoutes } from "./routes/session-extras.ts"
import { messageEditRoutes } from "./routes/message-edit.ts"
import { sessionCommandRoutes } from "./routes/session-command.ts"
import { sessionRevertRoutes } from "./routes/session-revert.ts"
import { sessionSummarizeRoutes } from "./routes/session-summarize.ts"
import { configRoutes } from "./routes/config.ts"
import { eventRoutes } from "./routes/event.ts"
import { apiRoutes } from "./routes/api.ts"
import { experimentalRoutes } from "./routes/experimental.ts"
import { fileRoutes } from "./routes/file.ts"
import { vcsRoutes } from "./routes/vcs.ts"
import { globalSessionRoutes } from "./routes/session-global.ts"
import { globalRoutes } from "./routes/global.ts"
import { lspRoutes } from "./routes/lsp.ts"
import { messageRoutes } from "./routes/message.ts"
import { projectRoutes } from "./routes/project.ts"
import { hasValidPtyTicket, ptyRoutes } from "./routes/pty.ts"
import { sessionRoutes } from "./routes/session.ts"
import { permissionRoutes, questionRoutes, sessionPermissionRoutes } from "./routes/question.ts"
import { tuiRoutes } from "./routes/tui.ts"
import { toolRoutes } from "./routes/tool.ts"
import { WebApp } from "./webapp/webapp.ts"

/** The whole API as one Hono app; the runtime supplies the ports. */
export function createApp(ports: Ports) {
  const app = new Hono<AppEnv>()
  app.onError(errorHandler(ports.log))
  // What no route answers: the web app's page and files for a browser, else a NamedError.
  app.notFound((c) =>
    WebApp.claims(c.req.raw)
      ? WebApp.serve(ports, c.req.raw)
      : c.json(new NotFoundError({ message: `No route for ${c.req.method} ${c.req.path}` }).toObject(), 404),
  )

  app.use(requestLog(ports.log))
  app.use(drainUnreadBody())
  app.use(corsMiddleware(ports.config.corsOrigins))
  app.use(resolveDirectory(ports.config.defaultDirectory))
  // A PTY connect with a valid single-use ticket passes without credentials, as upstream.
  if (ports.config.auth) app.use(basicAuth<AppEnv>(ports.config.auth, (c) => hasValidPtyTicket(ports, c)))
  app.use(bodyLimit(ports.config.maxBodyBytes))

  app
    .route("/global", globalRoutes(ports))
    .route("/project", projectRoutes(ports))
    .route("/session", sessionRoutes(ports))
    .route("/session", sessionExtraRoutes(ports))
    .route("/session", sessionRevertRoutes(ports))
    .route("/mcp", mcpRoutes(ports))
    .route("/", appInfoRoutes(ports))
    .route("/message", messageRoutes(ports))
    .route("/session", messageEditRoutes(ports))
    .route("/session", sessionCommandRoutes(ports))
    .route("/session", sessionSummarizeRoutes(ports))
    .route("/event", eventRoutes(ports))
    .route("/pty", ptyRoutes(ports))
    .route("/", experimentalRoutes(ports))
    .route("/", globalSessionRoutes(ports))
    .route("/api", apiRoutes(ports))
    .route("/", fileRoutes(ports))
    .route("/", vcsRoutes(ports))
    .route("/", lspRoutes(ports))
    .route("/", configRoutes(ports))
    .route("/question", questionRoutes(ports))
    .route("/permission", permissionRoutes(ports))
    .route("/", sessionPermissionRoutes(ports))
    .route("/tui", tuiRoutes(ports))
    .route("/", toolRoutes(ports))

  const describeApp = openAPIRouteHandler(app, {
    defaultValidationErrorResponse: VALIDATION_ERROR_RESPONSE,
    documentation: {
      openapi: "3.1.1",
      info: {
        title: "opencode",
        version: ports.config.version,
        description: "OpenCode server API, served alike by the local agent and the edge worker",
      },
    },
  })
  // The document never changes while the app runs: made, serialized and encoded once, then served as bytes.
  let doc: Promise<Uint8Array<ArrayBuffer>> | undefined
  app.get("/doc", async (c, next) => {
    doc ??= Promise.resolve(describeApp(c, next))
      .then(async (response) => new Uint8Array(await (response as Response).arrayBuffer()))
      .catch((error: unknown) => {
        doc = undefined
        throw error
      })
    return c.body(await doc, 200, { "Content-Type": "application/json" })
  })
  return app
}

export type App = ReturnType<typeof createApp>
