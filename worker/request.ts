import type { Context } from "hono"
import type { z } from "zod"
import { BadRequestError, UnauthorizedError } from "../shared/error.ts"

/** Request helpers of the edge's own routes (pairing, machines' share API), which are not the shared app. */

export function bearerOf(c: Context): string | undefined {
  return c.req.header("Authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1]
}

export function requireBearer(c: Context): string {
  const secret = bearerOf(c)
  if (!secret) throw new UnauthorizedError({ message: "Authorization: Bearer <secret> is required" })
  return secret
}

export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let value: unknown
  try {
    value = await c.req.json()
  } catch {
    throw new BadRequestError({ message: "The body must be JSON", kind: "Body" })
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    throw new BadRequestError({
      message: "Invalid body",
      kind: "Body",
      issues: parsed.error.issues.map((issue) => ({
        path: issue.path.filter((part): part is string | number => typeof part !== "symbol"),
        message: issue.message,
      })),
    })
  }
  return parsed.data
}

