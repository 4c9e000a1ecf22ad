/**
 * A PTY's recent output, at least `capacity` characters of it, addressed by cursor: the count of
 * characters the PTY has produced since it started. Old chunks are dropped whole once the rest still
 * covers the capacity.
 */
export class OutputBuffer {
  private chunks: string[] = []
  private size = 0
  /** Cursor of the first character still held. */
  private start = 0

  constructor(private readonly capacity: number) {}

  /** Cursor just past the newest character. */
  get end(): number {
    return this.start + this.size
  }

  push(data: string): void {
    this.chunks.push(data)
    this.size += data.length
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.capacity) {
      const dropped = this.chunks.shift()!
      this.size -= dropped.length
      this.start += dropped.length
    }
  }

  /** Output from `cursor` (or from the oldest held character, if that is later) to the end, in pieces of at most `pieceSize`. */
  since(cursor: number, pieceSize: number): string[] {
    let skip = Math.max(0, cursor - this.start)
    const pieces: string[] = []
    let piece = ""
    for (const chunk of this.chunks) {
      if (skip >= chunk.length) {
        skip -= chunk.length
        continue
      }
      let rest = chunk.slice(skip)
      skip = 0
      while (rest.length > 0) {
        const room = pieceSize - piece.length
        piece += rest.slice(0, room)
        rest = rest.slice(room)
        if (piece.length === pieceSize) {
          pieces.push(piece)
          piece = ""
        }
      }
    }
    if (piece) pieces.push(piece)
    return pieces
  }
}
