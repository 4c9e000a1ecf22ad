import type { MiddlewareHandler } from "hono"
import { BadRequestError } from "../error.ts"
import { Path } from "../path.ts"
import type { AppEnv } from "../env.ts"

function decode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** The request's directory as upstream resolves it: `?directory=`, then `x-opencode-directory` (URI-encoded), then the default. */
export function resolveDirectory(defaultDirectory: string): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const raw = c.req.query("directory") || c.req.header("x-opencode-directory")
    const directory = raw ? decode(raw) : defaultDirectory
    if (!Path.isAbsolute(directory)) {
      throw new BadRequestError({ message: `directory must be an absolute path: ${directory}`, kind: "Query" })
    }
    c.set("directory", Path.normalize(directory))
    return next()
  }
}
