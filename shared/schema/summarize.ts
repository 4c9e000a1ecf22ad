import { z } from "zod"

/** The body of `POST /session/:id/summarize`: the model that writes the summary. */
export const SummarizeInput = z
  .object({ providerID: z.string(), modelID: z.string(), auto: z.boolean().optional() })
  .meta({ ref: "SummarizeInput" })
export type SummarizeInput = z.infer<typeof SummarizeInput>
