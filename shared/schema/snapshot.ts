import { z } from "zod"
import { FileDiff } from "./session.ts"

/** A git tree (or object) hash of the snapshot repository: hex only, so it never reads as an option or a path. */
export const SnapshotHash = z.string().regex(/^[0-9a-f]{4,64}$/, "a hex object hash")

/** The files (absolute paths) a step changed since the snapshot `hash` taken before it: a `patch` part's fields. */
export const SnapshotPatch = z.object({ hash: SnapshotHash, files: z.array(z.string()) })
export type SnapshotPatch = z.infer<typeof SnapshotPatch>

/**
 * The machine's snapshot operations, as agent-only routes the edge calls through the tunnel (every one with
 * `?directory=`, all POST because each may write to the snapshot repository).
 */
export const SNAPSHOT_PATHS = {
  track: "/machine/snapshot/track",
  patch: "/machine/snapshot/patch",
  diff: "/machine/snapshot/diff",
  diffText: "/machine/snapshot/diff-text",
  revert: "/machine/snapshot/revert",
  restore: "/machine/snapshot/restore",
} as const

export const SnapshotTrackAnswer = z.object({ snapshot: z.string() })
export const SnapshotFromInput = z.object({ hash: SnapshotHash })
export const SnapshotPatchInput = z.object({ hash: SnapshotHash, to: SnapshotHash.optional() })
export const SnapshotDiffInput = z.object({ from: SnapshotHash, to: SnapshotHash })
export const SnapshotDiffAnswer = z.array(FileDiff)
export const SnapshotDiffTextAnswer = z.object({ diff: z.string() })
export const SnapshotRevertInput = z.object({ patches: z.array(SnapshotPatch) })
export const SnapshotRestoreInput = z.object({ snapshot: SnapshotHash })
