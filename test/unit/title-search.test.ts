import { describe, expect, test } from "vitest"
import { newestFirst } from "../../shared/domain/session-filter.ts"
import { titleLike } from "../../shared/domain/title-search.ts"
import type { Session } from "../../shared/schema/session.ts"
import { State } from "../../local-agent/store/state.ts"

const DIRECTORY = "/search"

function session(index: number, title: string): Session {
  // Session ids descend with time: a later session gets a smaller id.
  const id = `ses_${String(1_000 - index).padStart(4, "0")}`
  return { id, slug: id, projectID: "p", directory: DIRECTORY, title, version: "1", time: { created: index, updated: (index * 7) % 100 } } as Session
}

/** Every session in the list's order that the search's LIKE passes: what the title index must give. */
function expected(state: State, search: string, byUpdate?: "asc" | "desc") {
  const all = state.sessionList(DIRECTORY, byUpdate ? { byUpdate } : {})
  return all.filter((each) => titleLike(search)(each.title)).map((each) => each.id)
}

describe("local title search", () => {
  test("the title index finds what a walk with upstream's LIKE finds, in the same order, through renames and removals", () => {
    const state = new State()
    const words = ["Needle", "needle", "NEEDLE haystack", "hay", "Straße", "école", "a_b", "50% off", "😀 emoji needle"]
    for (let index = 0; index < 200; index++) state.apply({ op: "session.put", session: session(index, `${words[index % words.length]} ${index}`) })
    const searches = ["needle", "NEEDLE", "stack", "ÉCOLE", "école", "a_b", "%off", "needle%1", "😀 e", "no match", "ay"]
    const check = () => {
      for (const search of searches) {
        for (const byUpdate of [undefined, "desc", "asc"] as const) {
          expect(state.sessionList(DIRECTORY, { search, byUpdate }).map((each) => each.id), `${search} ${byUpdate}`).toEqual(expected(state, search, byUpdate))
        }
        expect(state.sessionList(DIRECTORY, { search, limit: 3, offset: 1 }).map((each) => each.id)).toEqual(expected(state, search).slice(1, 4))
      }
    }
    check()
    // After the index exists: renamed sessions are found by their new titles only (20 of 200: few enough to be read
    // through the index), removed ones not at all.
    for (let index = 0; index < 200; index += 10) state.apply({ op: "session.put", session: session(index, `renamed ${index}`) })
    for (let index = 1; index < 200; index += 11) if (index % 5 !== 0) state.apply({ op: "session.remove", sessionID: session(index, "").id })
    searches.push("renamed")
    check()
    expect(state.sessionList(DIRECTORY, { search: "renamed" })).toHaveLength(20)
    expect(state.sessionList(DIRECTORY, { search: "Needle 0" })).toEqual([])
    // by update time, ties keep the newest id first
    expect(expected(state, "renamed", "desc")).toEqual(state.sessionList(DIRECTORY, { search: "renamed" }).sort(newestFirst).map((each) => each.id))
  })
})
