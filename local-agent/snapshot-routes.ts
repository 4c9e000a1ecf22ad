import { Hono } from "hono"
import type { AppEnv } from "../shared/env.ts"
import type { Machine } from "../shared/machine.ts"
import { validate } from "../shared/openapi.ts"
import {
  SNAPSHOT_PATHS,
  SnapshotDiffInput,
  SnapshotFromInput,
  SnapshotPatchInput,
  SnapshotRestoreInput,
  SnapshotRevertInput,
} from "../shared/schema/snapshot.ts"

/** The machine's snapshot operations for the edge (agent-only, like the rest of machine-routes.ts). */
export function snapshotRoutes(machine: Machine) {
  const { snapshot } = machine
  return new Hono<AppEnv>()
    .post(SNAPSHOT_PATHS.track, async (c) => c.json({ snapshot: await snapshot.track(c.var.directory) }))
    .post(SNAPSHOT_PATHS.patch, validate("json", SnapshotPatchInput), async (c) => {
      const { hash, to } = c.req.valid("json")
      return c.json(await snapshot.patch(c.var.directory, hash, to))
    })
    .post(SNAPSHOT_PATHS.diff, validate("json", SnapshotDiffInput), async (c) => {
      const { from, to } = c.req.valid("json")
      return c.json(await snapshot.diff(c.var.directory, from, to))
    })
    .post(SNAPSHOT_PATHS.diffText, validate("json", SnapshotFromInput), async (c) => c.json({ diff: await snapshot.diffText(c.var.directory, c.req.valid("json").hash) }))
    .post(SNAPSHOT_PATHS.revert, validate("json", SnapshotRevertInput), async (c) => {
      await snapshot.revert(c.var.directory, c.req.valid("json").patches)
      return c.json({})
    })
    .post(SNAPSHOT_PATHS.restore, validate("json", SnapshotRestoreInput), async (c) => {
      await snapshot.restore(c.var.directory, c.req.valid("json").snapshot)
      return c.json({})
    })
}
