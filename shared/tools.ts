import { z } from "zod"
import { BadRequestError } from "./error.ts"
import { QuestionInfo } from "./schema/question.ts"
import { Todo } from "./schema/app-info.ts"

/**
 * The built-in tools: their ids, descriptions and argument schemas are the same everywhere (listing needs
 * no machine). Machine tools run on the machine (Machine.tools); server tools run in the server itself
 * (shared/domain/tool.ts) because what they touch (questions, todos, the network through `Ports.fetch`) is the
 * server's.
 */

/** The longest a `bash` command may run, and how long it runs when the call names no timeout. */
export const BASH_MAX_TIMEOUT_MS = 600_000
export const BASH_DEFAULT_TIMEOUT_MS = 120_000

export const MACHINE_TOOL_PARAMETERS = {
  read: z.object({
    filePath: z.string().min(1).describe("The file to read, relative to the directory (or absolute inside it)"),
    offset: z.number().int().min(0).optional().describe("The line to start from (0-based)"),
    limit: z.number().int().min(1).max(100_000).optional().describe("How many lines to read (default 2000)"),
  }),
  list: z.object({
    path: z.string().optional().describe("The directory to list, relative to the directory (default: the directory itself)"),
  }),
  glob: z.object({
    pattern: z.string().min(1).describe("A glob pattern such as **/*.ts, matched against paths relative to the search root"),
    path: z.string().optional().describe("The directory to search in (default: the directory itself)"),
  }),
  grep: z.object({
    pattern: z.string().min(1).describe("A regular expression to search file contents for"),
    path: z.string().optional().describe("The directory to search in (default: the directory itself)"),
    include: z.string().optional().describe('Only files whose name or path matches this glob (e.g. "*.ts")'),
  }),
  write: z.object({
    filePath: z.string().min(1).describe("The file to write, relative to the directory (or absolute inside it)"),
    content: z.string().describe("The file's whole new content"),
  }),
  edit: z.object({
    filePath: z.string().min(1).describe("The file to edit, relative to the directory (or absolute inside it)"),
    oldString: z.string().min(1).describe("The exact text to replace"),
    newString: z.string().describe("The text to put in its place (must differ from oldString)"),
    replaceAll: z.boolean().optional().describe("Replace every occurrence (default: oldString must occur exactly once)"),
  }),
  bash: z.object({
    command: z.string().min(1).describe("The command, run with `bash -c` in the directory"),
    timeout: z
      .number()
      .int()
      .min(1)
      .max(BASH_MAX_TIMEOUT_MS)
      .optional()
      .describe(`Milliseconds before the command's process group is killed (default ${BASH_DEFAULT_TIMEOUT_MS})`),
    description: z.string().optional().describe("A short description of what the command does (the result's title)"),
  }),
} as const

/** The longest a `webfetch` may take, and how long it may take when the call names no timeout (seconds, as upstream). */
export const WEBFETCH_MAX_TIMEOUT_S = 120
export const WEBFETCH_DEFAULT_TIMEOUT_S = 30
/** How much of an answer `webfetch` reads; the rest is cut. */
export const WEBFETCH_MAX_BYTES = 5 * 1024 * 1024

/** Server tools that need a session (`?sessionID=` on execute): they ask its user or keep its state. */
export const SESSION_TOOL_PARAMETERS = {
  question: z.object({ questions: z.array(QuestionInfo).min(1).describe("The questions to ask, answered together") }),
  todowrite: z.object({ todos: z.array(Todo).describe("The session's whole new todo list") }),
  todoread: z.object({}),
  task: z.object({
    description: z.string().min(1).describe("A short (3-5 words) description of the task"),
    prompt: z.string().min(1).describe("The task for the subagent, with everything it needs to know: it sees nothing of this conversation"),
    subagent_type: z.string().min(1).describe('The agent to run it (e.g. "general")'),
  }),
} as const

/** Server tools that need no session: a call without one is the client's own, as a machine tool's. */
export const STANDALONE_TOOL_PARAMETERS = {
  webfetch: z.object({
    url: z.url({ protocol: /^https?$/, error: "Expected an http:// or https:// URL" }).describe("The http:// or https:// URL to fetch"),
    format: z
      .enum(["text", "markdown", "html"])
      .default("markdown")
      .describe("How an HTML page comes back: converted to Markdown (default), to plain text, or as the raw HTML"),
    timeout: z
      .number()
      .positive()
      .max(WEBFETCH_MAX_TIMEOUT_S)
      .optional()
      .describe(`Seconds to wait for the whole answer (default ${WEBFETCH_DEFAULT_TIMEOUT_S}, at most ${WEBFETCH_MAX_TIMEOUT_S})`),
  }),
} as const

/** Server tools that read from the machine but run here: the skill tool parses the machine's SKILL.md files. */
export const SKILL_TOOL_PARAMETERS = {
  skill: z.object({ name: z.string().describe("The name of the skill from available_skills") }),
} as const

export const TOOL_PARAMETERS = { ...MACHINE_TOOL_PARAMETERS, ...SESSION_TOOL_PARAMETERS, ...STANDALONE_TOOL_PARAMETERS, ...SKILL_TOOL_PARAMETERS }

export type ToolID = keyof typeof TOOL_PARAMETERS
export type MachineToolID = keyof typeof MACHINE_TOOL_PARAMETERS
export type SessionToolID = keyof typeof SESSION_TOOL_PARAMETERS
export type StandaloneToolID = keyof typeof STANDALONE_TOOL_PARAMETERS | keyof typeof SKILL_TOOL_PARAMETERS
export type ToolArgs<T extends ToolID> = z.infer<(typeof TOOL_PARAMETERS)[T]>

const DESCRIPTIONS: Record<ToolID, string> = {
  read: "Read a text file from the directory, as numbered lines (offset and limit page through long files)",
  list: "List the files and directories under a path, honouring .gitignore",
  glob: "Find files whose path matches a glob pattern, honouring .gitignore",
  grep: "Search file contents with a regular expression, honouring .gitignore; hits as path:line: text",
  write: "Write a file inside the directory, creating it and its parent directories when missing",
  edit: "Replace exact text in a file inside the directory (once, or everywhere with replaceAll)",
  bash: "Run a shell command in the directory with a timeout; output is stdout and stderr combined",
  question: "Ask the session's user one or more multiple-choice questions and wait for the answers",
  todowrite: "Replace the session's todo list (published as todo.updated)",
  todoread: "Read the session's todo list",
  task:
    "Hand a self-contained task to a subagent, which works on it in a child session with its own tools and answers with " +
    "its final report. Use it for research or multi-step work that would crowd this conversation; run several at once " +
    "for independent parts.",
  webfetch:
    "Fetch a web page or file over http(s) and return its content: HTML as Markdown (default), plain text or raw HTML, " +
    `other text as it is; at most ${WEBFETCH_MAX_BYTES / 1024 / 1024} MB is read, and the answer must come within the timeout`,
  // Upstream's own words: the model is told the same thing either way.
  skill: [
    "Load a specialized skill when the task at hand matches one of the skills listed in the system prompt.",
    "",
    "Use this tool to inject the skill's instructions and resources into current conversation. The output may contain detailed workflow guidance as well as references to scripts, files, etc in the same directory as the skill.",
    "",
    "The skill name must match one of the skills listed in your system prompt.",
    "",
  ].join("\n"),
}

export const TOOL_IDS = Object.keys(TOOL_PARAMETERS) as ToolID[]

export function isToolID(id: string): id is ToolID {
  return Object.hasOwn(TOOL_PARAMETERS, id)
}

export function isMachineToolID(id: string): id is MachineToolID {
  return Object.hasOwn(MACHINE_TOOL_PARAMETERS, id)
}

export function isSessionToolID(id: string): id is SessionToolID {
  return Object.hasOwn(SESSION_TOOL_PARAMETERS, id)
}

/** The arguments checked against the tool's schema; 400 BadRequest listing every issue. */
export function parseToolArguments<T extends ToolID>(id: T, args: unknown): ToolArgs<T> {
  const parsed = TOOL_PARAMETERS[id].safeParse(args)
  if (parsed.success) return parsed.data as ToolArgs<T>
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment)),
    message: issue.message,
  }))
  const summary = issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")
  throw new BadRequestError({ message: `Invalid arguments for ${id}: ${summary}`, kind: "Body", issues })
}

export const ToolInfo = z
  .object({
    id: z.string(),
    description: z.string(),
    parameters: z.record(z.string(), z.unknown()).describe("JSON Schema of the arguments"),
  })
  .meta({ ref: "ToolInfo" })
export type ToolInfo = z.infer<typeof ToolInfo>

export const ToolResult = z
  .object({
    title: z.string(),
    output: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    /** Files answered besides the text (an MCP tool's images); the tool part keeps them as file parts. */
    attachments: z.array(z.object({ type: z.literal("file"), mime: z.string(), url: z.string(), filename: z.string().optional() })).optional(),
  })
  .meta({ ref: "ToolResult" })
export type ToolResult = z.infer<typeof ToolResult>

/** Every built-in tool with the JSON Schema of its arguments. */
export const TOOLS: ToolInfo[] = TOOL_IDS.map((id) => ({
  id,
  description: DESCRIPTIONS[id],
  parameters: z.toJSONSchema(TOOL_PARAMETERS[id], { io: "input" }) as Record<string, unknown>,
}))
