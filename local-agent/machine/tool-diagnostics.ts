import type { ToolService } from "../../shared/machine.ts"
import { confine } from "./confine.ts"
import type { LspDiagnostic, LspManager } from "./lsp.ts"

/** The longest a write or edit waits for its file's diagnostics once its language server has the new text. */
const DIAGNOSTICS_WAIT_MS = 10_000
/** Errors listed in a tool's output; the rest are counted. */
const MAX_LISTED = 20

const pretty = (diagnostic: LspDiagnostic) =>
  `ERROR [${diagnostic.range.start.line + 1}:${diagnostic.range.start.character + 1}] ${diagnostic.message}`

/**
 * write and edit report the errors the file's language server finds in what they wrote, as upstream's tools
 * do, so whoever edits sees a broken change at once: listed in the output, and every diagnostic of the file
 * in `metadata.diagnostics` under its absolute path (where the web app looks them up by the tool's filePath).
 * A file no server handles, or a server that fails, leaves the result as it was.
 */
export function withDiagnostics(tools: ToolService, lsp: LspManager): ToolService {
  return {
    async execute(directory, toolID, args) {
      const result = await tools.execute(directory, toolID, args)
      if (toolID !== "write" && toolID !== "edit") return result
      const filePath = (args as { filePath: string }).filePath
      if (!lsp.handles(filePath)) return result
      const diagnostics = await lsp.diagnose(directory, filePath, DIAGNOSTICS_WAIT_MS).catch(() => [])
      const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 1)
      const metadata = { ...result.metadata, diagnostics: { [confine(directory, filePath).absolute]: diagnostics } }
      if (errors.length === 0) return { ...result, metadata }
      const listed = errors.slice(0, MAX_LISTED).map(pretty)
      if (errors.length > MAX_LISTED) listed.push(`... and ${errors.length - MAX_LISTED} more`)
      const report = `LSP errors detected in this file, please fix:\n<diagnostics file="${filePath}">\n${listed.join("\n")}\n</diagnostics>`
      return { ...result, output: `${result.output}\n\n${report}`, metadata }
    },
  }
}
