import { searchTrigrams, trigramsOf } from "../../shared/domain/title-search.ts"

/**
 * A directory's session titles by trigram, kept in step with every title change, so a search reads only the
 * sessions whose titles hold all of its trigrams instead of every session. The candidates still need the exact
 * test (`titleLike`): holding the trigrams does not put them in the right order or next to each other.
 */
export class TitleIndex {
  private readonly byTrigram = new Map<string, Set<string>>()
  private readonly titles = new Map<string, string>()

  /** Indexes the session under `title`, dropping what its previous title put in. */
  set(sessionID: string, title: string): void {
    const previous = this.titles.get(sessionID)
    if (previous === title) return
    if (previous !== undefined) this.delete(sessionID)
    this.titles.set(sessionID, title)
    for (const trigram of trigramsOf(title)) {
      let ids = this.byTrigram.get(trigram)
      if (!ids) this.byTrigram.set(trigram, (ids = new Set()))
      ids.add(sessionID)
    }
  }

  delete(sessionID: string): void {
    const title = this.titles.get(sessionID)
    if (title === undefined) return
    this.titles.delete(sessionID)
    for (const trigram of trigramsOf(title)) {
      const ids = this.byTrigram.get(trigram)!
      ids.delete(sessionID)
      if (ids.size === 0) this.byTrigram.delete(trigram)
    }
  }

  /**
   * The sessions whose titles hold every trigram of `search`: a superset of its matches, when there are at most
   * `atMost` of them. Undefined when there may be more, or when the search has no run of three characters without
   * a wildcard (every title is then a candidate).
   */
  candidates(search: string, atMost: number): Set<string> | undefined {
    const sets: Set<string>[] = []
    for (const trigram of searchTrigrams(search)) sets.push(this.byTrigram.get(trigram) ?? new Set())
    if (sets.length === 0) return undefined
    sets.sort((a, b) => a.size - b.size)
    const [smallest, ...rest] = sets
    if (smallest!.size > atMost) return undefined
    const found = new Set<string>()
    for (const id of smallest!) if (rest.every((ids) => ids.has(id))) found.add(id)
    return found
  }
}
