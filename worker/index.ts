import { createApp, type App } from "../shared/app.ts"
import type { Env } from "./env.ts"
import { DEFAULT_TENANT } from "./names.ts"
import { createWorkerPorts } from "./ports.ts"

export { SessionObject } from "./objects/session.ts"
export { DirectoryObject } from "./objects/directory.ts"
export { GlobalObject } from "./objects/global.ts"

let app: App | undefined

/** The Worker entry only routes: the shared app does the work, Durable Objects hold the state. */
export default {
  fetch(request, env, ctx) {
    if (!app) {
      if (!env.OPENCODE_SERVER_PASSWORD) console.warn("Warning: OPENCODE_SERVER_PASSWORD is not set; server is unsecured.")
      app = createApp(createWorkerPorts(env, DEFAULT_TENANT))
    }
    return app.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
