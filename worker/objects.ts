import type { StreamKey } from "../shared/ports.ts"
import type { Env } from "./env.ts"
import { objectName } from "./names.ts"

/** Stubs of one tenant's Durable Objects. */
export class Objects {
  constructor(
    private readonly env: Env,
    private readonly tenant: string,
  ) {}

  session(sessionID: string) {
    return this.env.SESSIONS.getByName(objectName(this.tenant, { kind: "session", sessionID }))
  }

  directory(directory: string) {
    return this.env.DIRECTORIES.getByName(objectName(this.tenant, { kind: "directory", directory }))
  }

  global() {
    return this.env.GLOBAL.getByName(objectName(this.tenant, { kind: "global" }))
  }

  stream(key: StreamKey) {
    switch (key.kind) {
      case "global":
        return this.global()
      case "directory":
        return this.directory(key.directory)
      case "session":
        return this.session(key.sessionID)
    }
  }
}
