/**
 * What a session list's `search` matches, as upstream: its store tests `title LIKE '%' || search || '%'` in
 * SQLite, so case is ignored for ASCII letters only ("école" does not find "ÉCOLE"), `%` in the search stands for
 * any run of characters and `_` for any one character. The edge's SQLite tests the same LIKE itself; this is that
 * test for the local store, and the trigrams its title index narrows a search with.
 */

/** SQLite's LIKE folds ASCII letters only. */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase())
}

/** The test `title LIKE '%' || search || '%'`, as SQLite runs it. */
export function titleLike(search: string): (title: string) => boolean {
  const source = [...foldAscii(search)]
    .map((character) => (character === "%" ? ".*" : character === "_" ? "." : character.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")))
    .join("")
  // `u`: `_` and `.` stand for one code point, as SQLite's LIKE reads one UTF-8 character.
  const pattern = new RegExp(source, "su")
  return (title) => pattern.test(foldAscii(title))
}

/** The distinct runs of three code points in `text` (ASCII-folded), which index a title. */
export function trigramsOf(text: string): Set<string> {
  const folded = foldAscii(text)
  const trigrams = new Set<string>()
  if (!/[\uD800-\uDFFF]/.test(folded)) {
    // Without surrogate pairs each code point is one UTF-16 unit: slicing the string is enough.
    for (let index = 0; index + 3 <= folded.length; index++) trigrams.add(folded.slice(index, index + 3))
    return trigrams
  }
  const characters = [...folded]
  for (let index = 0; index + 3 <= characters.length; index++) trigrams.add(characters.slice(index, index + 3).join(""))
  return trigrams
}

/** The trigrams every title that `search` matches must hold: those of its runs without a wildcard. */
export function searchTrigrams(search: string): Set<string> {
  const trigrams = new Set<string>()
  for (const run of search.split(/[%_]/)) for (const trigram of trigramsOf(run)) trigrams.add(trigram)
  return trigrams
}
