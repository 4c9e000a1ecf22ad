import { z } from "zod"
import { describeRoute, resolver, validator, type DescribeRouteOptions } from "hono-openapi"
import type { ValidationTargets } from "hono"
import { BadRequestError, type ErrorClass } from "./error.ts"

const KIND = { json: "Body", query: "Query", param: "Params", header: "Headers" } as const

/** A validator whose failures are 400 BadRequest NamedErrors naming each issue. */
export function validate<Target extends keyof typeof KIND & keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  return validator(target, schema, (result) => {
    if (result.success) return
    const issues = result.error.map((issue) => ({
      path: (issue.path ?? []).map((segment) =>
        typeof segment === "object" ? String(segment.key) : (segment as string | number),
      ),
      message: issue.message,
    }))
    const summary = issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")
    throw new BadRequestError({ message: `Invalid ${KIND[target].toLowerCase()}: ${summary}`, kind: KIND[target], issues })
  })
}

export function json(description: string, schema: z.ZodType) {
  return { description, content: { "application/json": { schema: resolver(schema) } } }
}

/**
 * The 400 that /doc gives a validated route which declares none (the agent-only /machine/* routes): what
 * `validate` really answers, a BadRequestError, rather than hono-openapi's own `{success, error, data}`. A $ref,
 * as the options are cloned and cannot hold a resolver; every `errors()` puts BadRequestError in the components.
 */
export const VALIDATION_ERROR_RESPONSE = {
  description: BadRequestError.errorName,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${BadRequestError.errorName}` } } },
}

/** An SSE response whose `data:` lines carry `schema`. */
export function sse(description: string, schema: z.ZodType) {
  return { description, content: { "text/event-stream": { schema: resolver(schema) } } }
}

/** The declared error responses of a route; every route may also answer 400. Errors sharing a status are one union. */
export function errors(...classes: ErrorClass[]) {
  const byStatus = new Map<number, ErrorClass[]>()
  for (const ErrorType of new Set([BadRequestError, ...classes])) {
    byStatus.set(ErrorType.status, [...(byStatus.get(ErrorType.status) ?? []), ErrorType])
  }
  const out: Record<string, ReturnType<typeof json>> = {}
  for (const [status, types] of byStatus) {
    const [first, ...rest] = types.map((type) => type.Schema)
    const schema = rest.length ? z.union([first!, ...rest]) : first!
    out[status] = json(types.map((type) => type.errorName).join(" | "), schema)
  }
  return out
}

/** Every route that works on a directory takes it as upstream does: query first, then header. */
const DIRECTORY_PARAMETERS = [
  { in: "query", name: "directory", required: false, schema: { type: "string" }, description: "Absolute project directory" },
  {
    in: "header",
    name: "x-opencode-directory",
    required: false,
    schema: { type: "string" },
    description: "URI-encoded absolute project directory, used when the query names none",
  },
] as const

/** describeRoute for routes that resolve the request's directory. */
export function describeInstanceRoute(spec: DescribeRouteOptions) {
  return describeRoute({ ...spec, parameters: [...DIRECTORY_PARAMETERS, ...(spec.parameters ?? [])] })
}
