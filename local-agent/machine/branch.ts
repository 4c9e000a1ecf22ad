import { gitMaybe } from "./git.ts"

/** Git's empty tree: what HEAD is compared against in a repository without commits. */
export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

/** HEAD when the repository has a commit, else the empty tree. */
export async function headOrEmptyTree(directory: string): Promise<string> {
  return (await gitMaybe(directory, ["rev-parse", "--verify", "-q", "HEAD"])) ? "HEAD" : EMPTY_TREE
}

/** The branch HEAD is on ("HEAD" when detached, as upstream reports it); undefined outside git. */
export async function currentBranch(directory: string): Promise<string | undefined> {
  const symbolic = (await gitMaybe(directory, ["symbolic-ref", "--short", "-q", "HEAD"]))?.trim()
  if (symbolic) return symbolic
  return (await gitMaybe(directory, ["rev-parse", "--abbrev-ref", "HEAD"]))?.trim() || undefined
}

/** The default branch's name, and the ref to compare with: origin's HEAD when known, else a local `main` or `master`. */
export async function defaultBranch(directory: string): Promise<{ name: string; ref: string } | undefined> {
  const remote = (await gitMaybe(directory, ["symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD"]))?.trim()
  if (remote) return { name: remote.replace(/^origin\//, ""), ref: remote }
  for (const name of ["main", "master"]) {
    if ((await gitMaybe(directory, ["show-ref", "--verify", "-q", `refs/heads/${name}`])) !== undefined) return { name, ref: name }
  }
  return undefined
}

/** Where the current branch left the default branch; undefined on the default branch itself or without one. */
export async function forkPoint(directory: string): Promise<string | undefined> {
  const fallback = await defaultBranch(directory)
  if (!fallback || (await currentBranch(directory)) === fallback.name) return undefined
  return (await gitMaybe(directory, ["merge-base", fallback.ref, "HEAD"]))?.trim() || undefined
}
