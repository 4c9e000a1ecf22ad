import { z } from "zod"
import { FileDiff, Session, SessionStatus } from "./session.ts"
import { Message, MessageError, Part } from "./message.ts"
import { Project } from "./project.ts"
import { Pty } from "./machine.ts"
import { PermissionReply, PermissionRequest, QuestionAnswer, QuestionRequest } from "./question.ts"
import { TuiEventDefinitions } from "./tui.ts"
import { Todo } from "./app-info.ts"

/**
 * Set on a rejection that no user made: the request was withdrawn because its instance was disposed
 * (`POST /instance/dispose`). Clients clear the dialog either way; the asker ends with RequestDisposedError.
 */
const Disposed = z.literal(true).optional().describe("The request was withdrawn by disposing its instance, not rejected by the user")

/**
 * Every event the bus carries, defined once: its type string and the zod schema of its properties.
 * The Event union, the OpenAPI document and `Bus.publish`'s typing all derive from this table.
 */
export const EventDefinitions = {
  "server.connected": z.object({ resume: z.enum(["initial", "ok", "gap"]).optional() }),
  "server.heartbeat": z.object({}),
  "server.instance.disposed": z.object({ directory: z.string() }),
  "global.disposed": z.object({}),
  "project.updated": Project,
  "session.created": z.object({ sessionID: z.string(), info: Session }),
  "session.updated": z.object({ sessionID: z.string(), info: Session }),
  "session.deleted": z.object({ sessionID: z.string(), info: Session }),
  "session.status": z.object({ sessionID: z.string(), status: SessionStatus }),
  "session.idle": z.object({ sessionID: z.string() }),
  "session.diff": z.object({ sessionID: z.string(), diff: z.array(FileDiff) }),
  "session.error": z.object({ sessionID: z.string().optional(), error: MessageError.optional() }),
  "session.compacted": z.object({ sessionID: z.string() }),
  "message.updated": z.object({ sessionID: z.string(), info: Message }),
  "message.removed": z.object({ sessionID: z.string(), messageID: z.string() }),
  "message.part.updated": z.object({
    sessionID: z.string(),
    part: Part,
    time: z.number(),
    delta: z.string().optional().describe("The text this update added to a streaming text or reasoning part (the seed's form)"),
  }),
  "message.part.delta": z.object({
    sessionID: z.string(),
    messageID: z.string(),
    partID: z.string(),
    field: z.string(),
    delta: z.string(),
  }),
  "message.part.removed": z.object({ sessionID: z.string(), messageID: z.string(), partID: z.string() }),
  "command.executed": z.object({ name: z.string(), sessionID: z.string(), arguments: z.string(), messageID: z.string() }),
  "pty.created": z.object({ info: Pty }),
  "pty.updated": z.object({ info: Pty }),
  "pty.exited": z.object({ id: z.string(), exitCode: z.number() }),
  "pty.deleted": z.object({ id: z.string() }),
  "file.watcher.updated": z.object({ file: z.string(), event: z.enum(["add", "change", "unlink"]) }),
  "vcs.branch.updated": z.object({ branch: z.string().optional() }),
  "lsp.updated": z.object({}),
  "lsp.client.diagnostics": z.object({ serverID: z.string(), path: z.string() }),
  "mcp.tools.changed": z.object({ server: z.string() }),
  "mcp.browser.open.failed": z.object({ mcpName: z.string(), url: z.string() }),
  "question.asked": QuestionRequest,
  "question.replied": z.object({ sessionID: z.string(), requestID: z.string(), answers: z.array(QuestionAnswer) }),
  "question.rejected": z.object({ sessionID: z.string(), requestID: z.string(), disposed: Disposed }),
  "permission.asked": PermissionRequest,
  "todo.updated": z.object({ sessionID: z.string(), todos: z.array(Todo) }),
  "permission.replied": z.object({
    sessionID: z.string(),
    requestID: z.string(),
    reply: PermissionReply,
    message: z.string().optional().describe("The user's words with a rejection, handed to whoever asked"),
    disposed: Disposed,
  }),
  ...TuiEventDefinitions,
} as const

export type EventType = keyof typeof EventDefinitions
export type EventProperties<T extends EventType> = z.infer<(typeof EventDefinitions)[T]>

function eventSchema<T extends EventType>(type: T) {
  return z
    .object({ id: z.string(), type: z.literal(type), properties: EventDefinitions[type] })
    .meta({ ref: `Event.${type}` })
}

const eventSchemas = (Object.keys(EventDefinitions) as EventType[]).map(eventSchema)

export const Event = z.discriminatedUnion("type", eventSchemas as [ReturnType<typeof eventSchema>]).meta({ ref: "Event" })
export type Event = { [T in EventType]: { id: string; type: T; properties: EventProperties<T> } }[EventType]

export const GlobalEvent = z
  .object({
    directory: z.string().optional(),
    payload: Event,
  })
  .meta({ ref: "GlobalEvent" })
