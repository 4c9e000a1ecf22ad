import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { MachineUnavailableError, NotFoundError, PathOutsideDirectoryError } from "../error.ts"
import { requireMachine } from "../machine.ts"
import { machineRequired } from "../middleware/machine.ts"
import { FileContent, FileNode, FileStatus, FindFilesQuery, PathInfo, TextMatch } from "../schema/machine.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

const PathQuery = z.object({ path: z.string().describe("Path relative to the directory; must stay inside it") })
const PatternQuery = z.object({ pattern: z.string().min(1).describe("Regular expression (ripgrep syntax)") })

/**
 * Files, search and paths of the machine that holds the request's directory (upstream's `/file*`, `/find*`,
 * `/path`). Mounted at the root; each route first makes sure there is a machine, so on the edge they answer 503
 * MachineUnavailable whatever the input.
 */
export function fileRoutes(ports: Ports) {
  const machine = machineRequired(ports)
  const files = () => requireMachine(ports).files
  const vcs = () => requireMachine(ports).vcs

  return new Hono<AppEnv>()
    .get(
      "/file",
      describeInstanceRoute({
        operationId: "file.list",
        summary: "List a directory's entries, marking the .gitignore'd ones",
        responses: {
          200: json("Entries, directories first", z.array(FileNode)),
          ...errors(NotFoundError, PathOutsideDirectoryError, MachineUnavailableError),
        },
      }),
      machine,
      validate("query", PathQuery),
      async (c) => c.json(await files().list(c.var.directory, c.req.valid("query").path)),
    )
    .get(
      "/file/content",
      describeInstanceRoute({
        operationId: "file.read",
        summary: "Read a file: text as is, binary as base64; diff and patch against git HEAD when it differs",
        responses: {
          200: json("File content", FileContent),
          ...errors(NotFoundError, PathOutsideDirectoryError, MachineUnavailableError),
        },
      }),
      machine,
      validate("query", PathQuery),
      async (c) => c.json(await files().read(c.var.directory, c.req.valid("query").path)),
    )
    .get(
      "/file/status",
      describeInstanceRoute({
        operationId: "file.status",
        summary: "Files that differ from git HEAD, with added and removed line counts",
        responses: {
          200: json("Changed files", z.array(FileStatus)),
          ...errors(NotFoundError, MachineUnavailableError),
        },
      }),
      machine,
      async (c) => c.json(await files().status(c.var.directory)),
    )
    .get(
      "/find",
      describeInstanceRoute({
        operationId: "find.text",
        summary: "Search file contents (ripgrep-shaped hits; .gitignore honoured)",
        responses: {
          200: json("Matches", z.array(TextMatch)),
          ...errors(NotFoundError, MachineUnavailableError),
        },
      }),
      machine,
      validate("query", PatternQuery),
      async (c) => c.json(await files().findText(c.var.directory, c.req.valid("query").pattern)),
    )
    .get(
      "/find/file",
      describeInstanceRoute({
        operationId: "find.files",
        summary: "Find files and directories by fuzzy name; directories end with /",
        responses: {
          200: json("Paths relative to the directory, best first", z.array(z.string())),
          ...errors(NotFoundError, MachineUnavailableError),
        },
      }),
      machine,
      validate("query", FindFilesQuery),
      async (c) => c.json(await files().findFiles(c.var.directory, c.req.valid("query"))),
    )
    .get(
      "/path",
      describeInstanceRoute({
        operationId: "path.get",
        summary: "The machine's home, state and config paths, the worktree and the directory",
        responses: { 200: json("Paths", PathInfo), ...errors(MachineUnavailableError) },
      }),
      machine,
      async (c) => c.json(await vcs().paths(c.var.directory)),
    )
}
