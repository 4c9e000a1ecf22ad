/** POSIX path helpers that run on both runtimes (no node:path on the edge). */
export namespace Path {
  /** Absolute, normalised: `.`/`..` resolved, no duplicate or trailing slashes. */
  export function normalize(input: string): string {
    const segments: string[] = []
    for (const segment of input.split("/")) {
      if (segment === "" || segment === ".") continue
      if (segment === "..") segments.pop()
      else segments.push(segment)
    }
    return "/" + segments.join("/")
  }

  export function isAbsolute(input: string): boolean {
    return input.startsWith("/")
  }

  /** `target` relative to `base`, or undefined when `target` is not inside `base`. */
  export function relativeInside(base: string, target: string): string | undefined {
    if (base === "/") return target.slice(1)
    if (target === base) return ""
    return target.startsWith(base + "/") ? target.slice(base.length + 1) : undefined
  }

  /** The folder part of a path, as node's `path.dirname` (`.` for a bare name). */
  export function dirname(input: string): string {
    const trimmed = input.replace(/\/+$/, "")
    const at = trimmed.lastIndexOf("/")
    return at < 0 ? "." : at === 0 ? "/" : trimmed.slice(0, at)
  }
}
