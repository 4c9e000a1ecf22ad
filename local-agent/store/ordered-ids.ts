/**
 * Ids kept sorted in an array, so a page is a slice or a walk that stops early rather than a sort. New ids come at
 * one end (message ids ascend with time, session ids descend): the array is kept in the order that puts that end
 * last, so an insert is a push rather than a move of every element.
 */
export class OrderedIds {
  readonly ids: string[] = []

  constructor(private readonly descending: boolean) {}

  /** The index of the first id that does not come before `id`. */
  position(id: string): number {
    let low = 0
    let high = this.ids.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.comesBefore(this.ids[middle]!, id)) low = middle + 1
      else high = middle
    }
    return low
  }

  add(id: string): void {
    const last = this.ids.at(-1)
    if (last === undefined || this.comesBefore(last, id)) {
      this.ids.push(id)
      return
    }
    const index = this.position(id)
    if (this.ids[index] !== id) this.ids.splice(index, 0, id)
  }

  delete(id: string): void {
    const index = this.position(id)
    if (this.ids[index] === id) this.ids.splice(index, 1)
  }

  private comesBefore(a: string, b: string): boolean {
    return this.descending ? a > b : a < b
  }
}
