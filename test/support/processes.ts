import { until } from "./http.ts"

/** Waits until no process of the group `group` is left (signal 0 tells whether any exists). */
export function untilGroupGone(group: number): Promise<true> {
  return until(
    () => {
      try {
        process.kill(-group, 0)
        return undefined
      } catch {
        return true
      }
    },
    { what: `process group ${group} to end` },
  )
}
