import type { StreamKey } from "../shared/ports.ts"
import type { Env } from "./env.ts"
import type { SessionObject } from "./objects/session.ts"
import { objectName } from "./names.ts"

/** A session object that code runs inside (its turn): calls to that session are made on it directly, not over RPC. */
export interface HostSession {
  sessionID: string
  object: SessionObject
}

/** Stubs of one tenant's Durable Objects. */
export class Objects {
  private readonly hostStub?: DurableObjectStub<SessionObject>

  constructor(
    private readonly env: Env,
    private readonly tenant: string,
    private readonly host?: HostSession,
  ) {
    if (host) this.hostStub = asStub(host.object)
  }

  session(sessionID: string): DurableObjectStub<SessionObject> {
    if (this.hostStub && this.host?.sessionID === sessionID) return this.hostStub
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

/** The object itself behind a stub's face: each method answers a promise, as over RPC, but runs right here. */
function asStub(object: SessionObject): DurableObjectStub<SessionObject> {
  return new Proxy(object, {
    get(target, name) {
      const value = Reflect.get(target, name, target)
      if (typeof value !== "function") return value
      return (...args: unknown[]) => {
        try {
          return Promise.resolve(value.apply(target, args))
        } catch (error) {
          return Promise.reject(error)
        }
      }
    },
  }) as unknown as DurableObjectStub<SessionObject>
}
