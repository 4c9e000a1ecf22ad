import { MessageCursor } from "../domain/message-cursor.ts"
import { z } from "zod"
import { FileDiff, Tokens } from "./session.ts"
import {
  APIError,
  ContextOverflowError,
  MessageAbortedError,
  MessageOutputLengthError,
  ProviderAuthError,
  StructuredOutputError,
  UnknownError,
} from "../error.ts"

export const ModelRef = z.object({ providerID: z.string(), modelID: z.string() })

export const OutputFormat = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("text") }),
    z.object({ type: z.literal("json_schema"), schema: z.record(z.string(), z.unknown()), retryCount: z.number().optional() }),
  ])
  .meta({ ref: "OutputFormat" })

export const UserMessage = z
  .object({
    id: z.string().startsWith("msg"),
    sessionID: z.string().startsWith("ses"),
    role: z.literal("user"),
    time: z.object({ created: z.number() }),
    format: OutputFormat.optional(),
    summary: z
      .object({ title: z.string().optional(), body: z.string().optional(), diffs: z.array(FileDiff) })
      .optional(),
    agent: z.string(),
    model: ModelRef.extend({ variant: z.string().optional() }),
    system: z.string().optional(),
    tools: z.record(z.string(), z.boolean()).optional(),
  })
  .meta({ ref: "UserMessage" })
export type UserMessage = z.infer<typeof UserMessage>

export const MessageError = z.union([
  ProviderAuthError.Schema,
  UnknownError.Schema,
  MessageAbortedError.Schema,
  APIError.Schema,
  MessageOutputLengthError.Schema,
  ContextOverflowError.Schema,
  StructuredOutputError.Schema,
])
export type MessageError = z.infer<typeof MessageError>

export const AssistantMessage = z
  .object({
    id: z.string().startsWith("msg"),
    sessionID: z.string().startsWith("ses"),
    role: z.literal("assistant"),
    time: z.object({ created: z.number(), completed: z.number().optional() }),
    error: MessageError.optional(),
    parentID: z.string(),
    modelID: z.string(),
    providerID: z.string(),
    mode: z.string(),
    agent: z.string(),
    path: z.object({ cwd: z.string(), root: z.string() }),
    summary: z.boolean().optional(),
    cost: z.number(),
    tokens: Tokens.extend({ total: z.number().optional() }),
    variant: z.string().optional(),
    finish: z.string().optional(),
    /** The answer to `format: json_schema`, validated. */
    structured: z.unknown().optional(),
  })
  .meta({ ref: "AssistantMessage" })
export type AssistantMessage = z.infer<typeof AssistantMessage>

export const Message = z.discriminatedUnion("role", [UserMessage, AssistantMessage]).meta({ ref: "Message" })
export type Message = z.infer<typeof Message>

const Metadata = z.record(z.string(), z.unknown())
const SourceText = z.object({ value: z.string(), start: z.number().int(), end: z.number().int() })
const Position = z.object({ line: z.number().int(), character: z.number().int() })

export const FilePartSource = z.discriminatedUnion("type", [
  z.object({ type: z.literal("file"), text: SourceText, path: z.string() }),
  z.object({
    type: z.literal("symbol"),
    text: SourceText,
    path: z.string(),
    range: z.object({ start: Position, end: Position }),
    name: z.string(),
    kind: z.number().int(),
  }),
  z.object({ type: z.literal("resource"), text: SourceText, clientName: z.string(), uri: z.string() }),
])

/** The fields a client may send for each part kind; stored parts add the ids. */
const partFields = {
  text: {
    text: z.string(),
    synthetic: z.boolean().optional(),
    ignored: z.boolean().optional(),
    time: z.object({ start: z.number(), end: z.number().optional() }).optional(),
    metadata: Metadata.optional(),
  },
  file: {
    mime: z.string(),
    filename: z.string().optional(),
    url: z.string(),
    source: FilePartSource.optional(),
  },
  agent: { name: z.string(), source: SourceText.optional() },
  subtask: {
    prompt: z.string(),
    description: z.string(),
    agent: z.string(),
    model: ModelRef.optional(),
    command: z.string().optional(),
  },
}


const PartBase = {
  id: z.string().startsWith("prt"),
  sessionID: z.string().startsWith("ses"),
  messageID: z.string().startsWith("msg"),
}

const FilePart = z.object({ ...PartBase, type: z.literal("file"), ...partFields.file })

const time = { start: z.number(), end: z.number() }
const ToolState = z.discriminatedUnion("status", [
  z.object({ status: z.literal("pending"), input: Metadata, raw: z.string() }),
  z.object({
    status: z.literal("running"),
    input: Metadata,
    title: z.string().optional(),
    metadata: Metadata.optional(),
    time: z.object({ start: z.number() }),
  }),
  z.object({
    status: z.literal("completed"),
    input: Metadata,
    output: z.string(),
    title: z.string(),
    metadata: Metadata,
    time: z.object({ ...time, compacted: z.number().optional() }),
    /** Files the tool answered besides its text (an MCP tool's images and binary resources), as upstream. */
    attachments: z.array(FilePart).optional(),
  }),
  z.object({
    status: z.literal("error"),
    input: Metadata,
    error: z.string(),
    metadata: Metadata.optional(),
    time: z.object(time),
  }),
])

export const Part = z
  .discriminatedUnion("type", [
    z.object({ ...PartBase, type: z.literal("text"), ...partFields.text }),
    z.object({ ...PartBase, type: z.literal("subtask"), ...partFields.subtask }),
    z.object({
      ...PartBase,
      type: z.literal("reasoning"),
      text: z.string(),
      metadata: Metadata.optional(),
      time: z.object({ start: z.number(), end: z.number().optional() }),
    }),
    FilePart,
    z.object({
      ...PartBase,
      type: z.literal("tool"),
      callID: z.string(),
      tool: z.string(),
      state: ToolState,
      metadata: Metadata.optional(),
    }),
    z.object({ ...PartBase, type: z.literal("step-start"), snapshot: z.string().optional() }),
    z.object({
      ...PartBase,
      type: z.literal("step-finish"),
      reason: z.string(),
      snapshot: z.string().optional(),
      cost: z.number(),
      tokens: Tokens,
    }),
    z.object({ ...PartBase, type: z.literal("snapshot"), snapshot: z.string() }),
    z.object({ ...PartBase, type: z.literal("patch"), hash: z.string(), files: z.array(z.string()) }),
    z.object({ ...PartBase, type: z.literal("agent"), ...partFields.agent }),
    z.object({
      ...PartBase,
      type: z.literal("retry"),
      attempt: z.number(),
      error: APIError.Schema,
      time: z.object({ created: z.number() }),
    }),
    z.object({ ...PartBase, type: z.literal("compaction"), auto: z.boolean(), overflow: z.boolean().optional(), tail_start_id: z.string().optional() }),
  ])
  .meta({ ref: "Part" })
export type Part = z.infer<typeof Part>

const inputId = { id: z.string().startsWith("prt").optional() }
export const FilePartInput = z.object({ ...inputId, type: z.literal("file"), ...partFields.file }).meta({ ref: "FilePartInput" })
export type FilePartInput = z.infer<typeof FilePartInput>
export const PartInput = z.discriminatedUnion("type", [
  z.object({ ...inputId, type: z.literal("text"), ...partFields.text }).meta({ ref: "TextPartInput" }),
  FilePartInput,
  z.object({ ...inputId, type: z.literal("agent"), ...partFields.agent }).meta({ ref: "AgentPartInput" }),
  z.object({ ...inputId, type: z.literal("subtask"), ...partFields.subtask }).meta({ ref: "SubtaskPartInput" }),
])
export type PartInput = z.infer<typeof PartInput>

export const PromptInput = z
  .object({
    messageID: z.string().startsWith("msg").optional(),
    model: ModelRef.optional(),
    agent: z.string().optional(),
    noReply: z.boolean().optional(),
    tools: z.record(z.string(), z.boolean()).optional(),
    format: OutputFormat.optional(),
    system: z.string().optional(),
    variant: z.string().optional(),
    parts: z.array(PartInput).min(1),
  })
  .meta({ ref: "PromptInput" })
export type PromptInput = z.infer<typeof PromptInput>

export const MessageWithParts = z.object({ info: Message, parts: z.array(Part) })
export type MessageWithParts = z.infer<typeof MessageWithParts>

export const MessageListQuery = z.object({
  /** 0, as upstream, means no limit (the web app asks so for a session it opens from the home screen). */
  limit: z.coerce.number().int().nonnegative().max(10_000).optional(),
  before: z
    .string()
    .max(1_000)
    .refine((before) => MessageCursor.decode(before) !== undefined, "Not a message cursor")
    .optional()
    .describe("The x-next-cursor of the page before (a message id works too): only messages older than that one"),
})
export type MessageListQuery = z.infer<typeof MessageListQuery>
