import { readFileSync } from "node:fs"

/** A file's text, or undefined while it is not there (git writes a restored file anew, so it is briefly absent). */
export function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return undefined
  }
}
