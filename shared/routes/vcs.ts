import { Hono } from "hono"
import { z } from "zod"
import type { AppEnv } from "../env.ts"
import type { Ports } from "../ports.ts"
import { MachineUnavailableError, NotFoundError } from "../error.ts"
import { requireMachine } from "../machine.ts"
import { machineRequired } from "../middleware/machine.ts"
import { VcsDiffQuery, VcsFileDiff, VcsFileStatus, VcsInfo } from "../schema/machine.ts"
import { describeInstanceRoute, errors, json, validate } from "../openapi.ts"

/**
 * Git as the machine that holds the request's directory sees it (upstream's `/vcs*`): the branch, and the changed
 * files the app's review panel lists and diffs. Each route first makes sure there is a machine, so on the edge
 * they answer 503 MachineUnavailable whatever the input.
 */
export function vcsRoutes(ports: Ports) {
  const machine = machineRequired(ports)
  const vcs = () => requireMachine(ports).vcs

  return new Hono<AppEnv>()
    .get(
      "/vcs",
      describeInstanceRoute({
        operationId: "vcs.get",
        summary: "The directory's git branch",
        responses: { 200: json("Version control info", VcsInfo), ...errors(MachineUnavailableError) },
      }),
      machine,
      async (c) => c.json(await vcs().info(c.var.directory)),
    )
    .get(
      "/vcs/status",
      describeInstanceRoute({
        operationId: "vcs.status",
        summary: "Files that differ from HEAD (staged, unstaged, untracked), with added and deleted line counts",
        responses: {
          200: json("Changed files, by path; empty outside git", z.array(VcsFileStatus)),
          ...errors(NotFoundError, MachineUnavailableError),
        },
      }),
      machine,
      async (c) => c.json(await vcs().status(c.var.directory)),
    )
    .get(
      "/vcs/diff",
      describeInstanceRoute({
        operationId: "vcs.diff",
        summary: "Changed files with their patches, against HEAD (git) or the branch's fork from the default branch (branch)",
        responses: {
          200: json("Changed files, by path; empty outside git and, in branch mode, on the default branch", z.array(VcsFileDiff)),
          ...errors(NotFoundError, MachineUnavailableError),
        },
      }),
      machine,
      validate("query", VcsDiffQuery),
      async (c) => c.json(await vcs().diff(c.var.directory, c.req.valid("query"))),
    )
}
