import type { AssistantModelMessage, ModelMessage, ToolModelMessage, UserModelMessage } from "ai"
import type { Ports } from "../ports.ts"
import type { MessageWithParts, Part } from "../schema/message.ts"
import type { Model } from "../schema/config.ts"
import { Compaction } from "./compaction.ts"

type FilePart = Extract<Part, { type: "file" }>
type UserContent = Exclude<UserModelMessage["content"], string>

/**
 * The stored conversation as model messages. User text (not `ignored`), `noReply` messages included; file parts
 * as clients send them: `data:` URLs as attachments (images and PDFs only to models that take them), `file://`
 * URLs read through the machine (a directory is listed). Assistant text, reasoning and tool calls with their
 * results or errors (a result's attachments inside it, or after it for providers that take media only from the user); a call that never finished reads as interrupted, so the model does not wait for it. Failed
 * steps are left out, aborted ones kept. A compaction message reads as upstream's "What did we do so far?" (its
 * summary follows), and a pruned tool output as cleared.
 */
export async function modelMessages(ports: Ports, directory: string, history: MessageWithParts[], model: Model): Promise<ModelMessage[]> {
  const out: ModelMessage[] = []
  for (const { info, parts } of history) {
    if (info.role === "user") {
      const content: UserContent = []
      for (const part of parts) {
        if (part.type === "text" && !part.ignored && part.text) content.push({ type: "text", text: part.text })
        if (part.type === "file") content.push(...(await fileContent(ports, directory, part, model)))
        if (part.type === "agent") content.push({ type: "text", text: `Use the ${part.name} agent for this request.` })
        // the subtask ran as a task tool call (its result follows): the model reads it as upstream words it
        if (part.type === "subtask") content.push({ type: "text", text: "The following tool was executed by the user" })
        if (part.type === "compaction") content.push({ type: "text", text: Compaction.SUMMARY_QUESTION })
      }
      if (content.length) out.push({ role: "user", content })
      continue
    }
    // As upstream: a step that failed is left out (the model would read half an answer as its own), but an
    // aborted one that got somewhere stays, so the model knows what it already said and did.
    if (info.error && !(info.error.name === "MessageAbortedError" && parts.some((part) => part.type === "text" || part.type === "tool"))) continue
    const assistant: AssistantModelMessage = { role: "assistant", content: [] }
    const results: ToolModelMessage = { role: "tool", content: [] }
    const content = assistant.content as Exclude<AssistantModelMessage["content"], string>
    const mediaAfter: FileAttachment[] = []
    for (const part of parts) {
      if (part.type === "text" && part.text) content.push({ type: "text", text: part.text })
      if (part.type === "reasoning" && part.text) content.push({ type: "reasoning", text: part.text })
      if (part.type !== "tool") continue
      content.push({ type: "tool-call", toolCallId: part.callID, toolName: part.tool, input: part.state.input })
      const state = part.state
      if (state.status !== "completed") {
        const value = state.status === "error" ? state.error : "The tool call was interrupted before it finished"
        results.content.push({ type: "tool-result", toolCallId: part.callID, toolName: part.tool, output: { type: "error-text", value } })
        continue
      }
      const text = state.time.compacted ? Compaction.CLEARED_OUTPUT : state.output
      const attachments = state.time.compacted ? [] : (state.attachments ?? [])
      const inResult = attachments.filter((file) => !isMedia(file.mime) || mediaInToolResults(model, file.mime))
      mediaAfter.push(...attachments.filter((file) => !inResult.includes(file)))
      const output: ToolResultOutput = inResult.length
        ? { type: "content", value: [...(text ? [{ type: "text" as const, text }] : []), ...inResult.map((file) => ({ type: "media" as const, mediaType: file.mime, data: file.url.slice(file.url.indexOf(",") + 1) }))] }
        : { type: "text", value: text }
      results.content.push({ type: "tool-result", toolCallId: part.callID, toolName: part.tool, output })
    }
    if (content.length) out.push(assistant)
    if (results.content.length) out.push(results)
    // Media a provider takes only from the user follows the results in a user message, as upstream sends it.
    if (mediaAfter.length) {
      out.push({
        role: "user",
        content: [{ type: "text", text: TOOL_MEDIA_PROMPT }, ...mediaAfter.map((file) => ({ type: "file" as const, data: file.url, mediaType: file.mime, filename: file.filename }))],
      })
    }
  }
  return out
}

type ToolResultOutput = Extract<ToolModelMessage["content"][number], { type: "tool-result" }>["output"]
type FileAttachment = NonNullable<Extract<Extract<Part, { type: "tool" }>["state"], { status: "completed" }>["attachments"]>[number]

/** Upstream's words before the media a tool answered, when they go to the model in a user message. */
const TOOL_MEDIA_PROMPT = "Attached media from tool result:"

const isMedia = (mime: string) => mime.startsWith("image/") || mime === "application/pdf"

/** Whether the provider's SDK takes images and PDFs inside a tool result (upstream's list); others get them from the user. */
function mediaInToolResults(model: Model, mime: string): boolean {
  const npm = model.api.npm
  const id = model.api.id.toLowerCase()
  if (["@ai-sdk/anthropic", "@ai-sdk/openai", "@ai-sdk/amazon-bedrock/mantle", "@ai-sdk/google-vertex/anthropic"].includes(npm)) return true
  if (npm === "@ai-sdk/amazon-bedrock") return mime.startsWith("image/") && ["anthropic.", "nova", "llama4", "llama-4"].some((name) => id.includes(name))
  if (npm === "@ai-sdk/xai") return mime.startsWith("image/")
  if (npm === "@ai-sdk/google") return id.includes("gemini-3") && !id.includes("gemini-2")
  return false
}

async function fileContent(ports: Ports, directory: string, part: FilePart, model: Model): Promise<UserContent> {
  const name = part.filename ?? part.url
  if (part.url.startsWith("data:")) {
    const takes = part.mime.startsWith("image/") ? model.capabilities.input.image : part.mime === "application/pdf" ? model.capabilities.input.pdf : true
    if (!takes) return [{ type: "text", text: `[${name}: a ${part.mime} attachment this model cannot read]` }]
    if (part.mime.startsWith("text/")) return [{ type: "text", text: `${name}:\n${decodeDataUrl(part.url)}` }]
    return [{ type: "file", data: part.url, mediaType: part.mime, filename: part.filename }]
  }
  if (!part.url.startsWith("file://") || !ports.machine) return [{ type: "text", text: `[attached: ${name} (${part.url})]` }]
  const path = decodeURIComponent(new URL(part.url).pathname)
  try {
    if (part.mime === "application/x-directory") {
      const entries = await ports.machine.files.list(directory, path)
      const listing = entries.map((entry) => (entry.type === "directory" ? `${entry.path}/` : entry.path)).join("\n")
      return [{ type: "text", text: `The user attached the directory ${path}; its entries:\n${listing}` }]
    }
    const file = await ports.machine.files.read(directory, path)
    if (file.type === "text") return [{ type: "text", text: `The user attached the file ${path}:\n${file.content}` }]
    const mime = file.mimeType ?? part.mime
    const takes = mime.startsWith("image/") ? model.capabilities.input.image : mime === "application/pdf" && model.capabilities.input.pdf
    if (!takes) return [{ type: "text", text: `[${path}: a binary ${mime} file this model cannot read]` }]
    return [{ type: "file", data: `data:${mime};base64,${file.content}`, mediaType: mime, filename: part.filename }]
  } catch (error) {
    return [{ type: "text", text: `[${path} could not be read: ${error instanceof Error ? error.message : String(error)}]` }]
  }
}

function decodeDataUrl(url: string): string {
  const comma = url.indexOf(",")
  const meta = url.slice(5, comma)
  const payload = url.slice(comma + 1)
  if (!meta.endsWith(";base64")) return decodeURIComponent(payload)
  return new TextDecoder().decode(Uint8Array.from(atob(payload), (char) => char.charCodeAt(0)))
}
