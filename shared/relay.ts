import { z } from "zod"

/** The local agent's route the edge's remote machine sends relayed requests to (never mounted by the edge's app). */
export const RELAY_PATH = "/machine/relay"

export const RelayRequestSchema = z.object({
  url: z.string().url(),
  method: z.string().min(1).max(16),
  headers: z.array(z.tuple([z.string(), z.string()])),
  body: z.string().optional(),
})
