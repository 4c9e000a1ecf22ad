import type { AssistantMessage, Part } from "../schema/message.ts"
import { renderMarkdown } from "./markdown.ts"
import { escapeHtml, formatCost, formatCount, timeElement } from "./html.ts"
import type { ShareMessage } from "./snapshot.ts"

/**
 * One message of a shared session as an `<article>`. Everything in it is untrusted: text is escaped, markdown goes
 * through the safe renderer (./markdown.ts), tool input and output are shown as text, never as HTML.
 */

/**
 * A tool's output or input past this many characters is cut on the page: a session of 200 messages with a few
 * large file reads would otherwise make every render (and the cached page) megabytes.
 */
const MAX_TEXT_BLOCK = 64 * 1024

type ToolPart = Extract<Part, { type: "tool" }>

const TOOL_STATUS: Record<ToolPart["state"]["status"], string> = {
  pending: "pending…",
  running: "running…",
  completed: "",
  error: "failed",
}

export function renderMessage({ info, parts }: ShareMessage): string {
  const id = escapeHtml(info.id)
  if (info.role === "user") {
    let body = ""
    for (const part of parts) body += userPart(part)
    return (
      `<article id="m-${id}" class="message user"><div class="role">User</div>${body}` +
      `<footer class="meta"><span>${timeElement(info.time.created)}</span></footer></article>`
    )
  }
  let body = ""
  for (const part of parts) body += assistantPart(part)
  if (info.error) body += messageError(info.error)
  if (!body && info.time.completed === undefined) body = `<p class="note">working…</p>`
  return `<article id="m-${id}" class="message assistant"><div class="role">Assistant</div>${body}${assistantMeta(info)}</article>`
}

/** All tokens of an assistant message: its own total when the provider gave one, else the sum of the kinds. */
export function totalTokens(tokens: AssistantMessage["tokens"]): number {
  const total = tokens.total ?? tokens.input + tokens.output + tokens.reasoning + tokens.cache.read + tokens.cache.write
  return Number.isFinite(total) ? total : 0
}

export function modelName(info: AssistantMessage): string {
  return `${info.providerID}/${info.modelID}`
}

function userPart(part: Part): string {
  if (part.type === "text") {
    if (part.synthetic || part.ignored || !part.text) return ""
    return `<div class="user-text">${escapeHtml(part.text)}</div>`
  }
  return commonPart(part)
}

function assistantPart(part: Part): string {
  switch (part.type) {
    case "text":
      if (part.synthetic || part.ignored || !part.text.trim()) return ""
      return `<div class="markdown">${renderMarkdown(part.text)}</div>`
    case "reasoning":
      if (!part.text.trim()) return ""
      return `<details class="reasoning"><summary>Thinking</summary><div class="markdown">${renderMarkdown(part.text)}</div></details>`
    case "tool":
      return toolPart(part)
    default:
      return commonPart(part)
  }
}

/** Parts either role may hold; bookkeeping parts (steps, snapshots, patches) are not shown. */
function commonPart(part: Part): string {
  switch (part.type) {
    case "file": {
      const source = part.source && "path" in part.source ? part.source.path : undefined
      return `<div class="file">File: ${escapeHtml(part.filename || source || part.mime)}</div>`
    }
    case "agent":
      return `<div class="agent">@${escapeHtml(part.name)}</div>`
    case "subtask":
      return (
        `<details class="subtask"><summary><span class="name">${escapeHtml(part.agent)}</span> ` +
        `${escapeHtml(part.description)}</summary>${textBlock(part.prompt)}</details>`
      )
    case "retry":
      return `<div class="note">Retry ${formatCount(part.attempt)}: ${escapeHtml(part.error.data.message)}</div>`
    case "compaction":
      return `<div class="note">Session compacted</div>`
    default:
      return ""
  }
}

function toolPart(part: ToolPart): string {
  const state = part.state
  const title = state.status === "completed" || state.status === "running" ? state.title : undefined
  const status = TOOL_STATUS[state.status]
  const summary =
    `<summary><span class="name">${escapeHtml(part.tool)}</span>` +
    (title ? ` <span class="title">${escapeHtml(title)}</span>` : "") +
    (status ? ` <span class="status">${status}</span>` : "") +
    `</summary>`
  const input = state.status === "pending" && isEmpty(state.input) ? state.raw : prettyJson(state.input)
  let body = input ? `<div class="label">Input</div>${textBlock(input)}` : ""
  if (state.status === "completed") body += `<div class="label">Output</div>${textBlock(state.output)}`
  if (state.status === "error") {
    return `<details class="tool error">${summary}${body}<div class="label">Error</div>${textBlock(state.error)}</details>`
  }
  return `<details class="tool">${summary}${body}</details>`
}

function messageError(error: NonNullable<AssistantMessage["error"]>): string {
  return (
    `<details class="error"><summary><span class="name">${escapeHtml(error.name)}</span></summary>` +
    `${textBlock(error.data.message)}</details>`
  )
}

function assistantMeta(info: AssistantMessage): string {
  const completed = info.time.completed === undefined ? "" : ` → ${timeElement(info.time.completed)}`
  return (
    `<footer class="meta"><span>${escapeHtml(modelName(info))}</span>` +
    `<span>${timeElement(info.time.created)}${completed}</span>` +
    `<span>${formatCount(totalTokens(info.tokens))} tokens</span><span>${formatCost(info.cost)}</span></footer>`
  )
}

function textBlock(text: string): string {
  if (text.length <= MAX_TEXT_BLOCK) return `<pre>${escapeHtml(text)}</pre>`
  const rest = formatCount(text.length - MAX_TEXT_BLOCK)
  return `<pre>${escapeHtml(text.slice(0, MAX_TEXT_BLOCK))}</pre><div class="note">… ${rest} more characters not shown</div>`
}

function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? ""
  } catch {
    return String(value)
  }
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false
  return true
}
