import { z } from "zod"

/** Shapes of questions and permission requests, as upstream's v2 SDK types them. */

export const QuestionOption = z
  .object({
    label: z.string().describe("Display text (1-5 words, concise)"),
    description: z.string().describe("Explanation of choice"),
  })
  .meta({ ref: "QuestionOption" })

export const QuestionInfo = z
  .object({
    question: z.string().describe("Complete question"),
    header: z.string().describe("Very short label (max 30 chars)"),
    options: z.array(QuestionOption).describe("Available choices"),
    multiple: z.boolean().optional(),
    custom: z.boolean().optional(),
  })
  .meta({ ref: "QuestionInfo" })

export const ToolRef = z.object({ messageID: z.string(), callID: z.string() })

export const QuestionRequest = z
  .object({
    id: z.string().startsWith("que"),
    sessionID: z.string(),
    questions: z.array(QuestionInfo).describe("Questions to ask"),
    tool: ToolRef.optional(),
  })
  .meta({ ref: "QuestionRequest" })
export type QuestionRequest = z.infer<typeof QuestionRequest>

/** The labels chosen (or typed) for one question. */
export const QuestionAnswer = z.array(z.string()).meta({ ref: "QuestionAnswer" })
export type QuestionAnswer = z.infer<typeof QuestionAnswer>

export const QuestionReplyInput = z.object({
  answers: z.array(QuestionAnswer).describe("User answers in order of questions (each answer is an array of selected labels)"),
})

export const PermissionRequest = z
  .object({
    id: z.string().startsWith("per"),
    sessionID: z.string(),
    permission: z.string(),
    patterns: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    always: z.array(z.string()),
    tool: ToolRef.optional(),
  })
  .meta({ ref: "PermissionRequest" })
export type PermissionRequest = z.infer<typeof PermissionRequest>

export const PermissionReply = z.enum(["once", "always", "reject"])
export type PermissionReply = z.infer<typeof PermissionReply>

export const PermissionReplyInput = z.object({ reply: PermissionReply, message: z.string().optional() })
/** The deprecated v1 body of `POST /session/:id/permissions/:permissionID`. */
export const PermissionRespondInput = z.object({ response: PermissionReply })
