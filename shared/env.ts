/** Hono variables every route can read. */
export type AppEnv = {
  Variables: {
    directory: string
  }
}
