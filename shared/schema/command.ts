import { z } from "zod"
import { FilePartInput, ModelRef } from "./message.ts"

/** `POST /session/:id/command`: a command run as a prompt (upstream's SessionPrompt.command input). */
export const CommandInput = z
  .object({
    command: z.string().min(1).describe("The command's name (GET /command lists them)"),
    arguments: z.string().describe("What the user typed after the command: $ARGUMENTS, split into $1, $2…"),
    messageID: z.string().startsWith("msg").optional(),
    agent: z.string().optional().describe("The agent when the command names none"),
    model: z.string().optional().describe('"provider/model", when neither the command nor its agent names one'),
    variant: z.string().optional(),
    parts: z.array(FilePartInput).optional().describe("Files attached beside the command's own @references"),
  })
  .meta({ ref: "CommandInput" })
export type CommandInput = z.infer<typeof CommandInput>

/** `POST /session/:id/shell`: a shell command the user runs on the machine, recorded in the session. */
export const ShellInput = z
  .object({
    command: z.string().min(1),
    agent: z.string(),
    model: ModelRef.optional(),
    messageID: z.string().startsWith("msg").optional(),
  })
  .meta({ ref: "ShellInput" })
export type ShellInput = z.infer<typeof ShellInput>

/** `POST /session/:id/init`: runs the built-in `init` command with this model. */
export const InitInput = z
  .object({ providerID: z.string(), modelID: z.string(), messageID: z.string().startsWith("msg") })
  .meta({ ref: "InitInput" })
export type InitInput = z.infer<typeof InitInput>
