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
 * results or errors; a call that never finished reads as interrupted, so the model does not wait for it. Failed
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
    for (const part of parts) {
      if (part.type === "text" && part.text) content.push({ type: "text", text: part.text })
      if (part.type === "reasoning" && part.text) content.push({ type: "reasoning", text: part.text })
      if (part.type !== "tool") continue
      content.push({ type: "tool-call", toolCallId: part.callID, toolName: part.tool, input: part.state.input })
      const state = part.state
      const output =
        state.status === "completed"
          ? { type: "text" as const, value: state.time.compacted ? Compaction.CLEARED_OUTPUT : state.output }
          : { type: "error-text" as const, value: state.status === "error" ? state.error : "The tool call was interrupted before it finished" }
      results.content.push({ type: "tool-result", toolCallId: part.callID, toolName: part.tool, output })
    }
    if (content.length) out.push(assistant)
    if (results.content.length) out.push(results)
  }
  return out
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
