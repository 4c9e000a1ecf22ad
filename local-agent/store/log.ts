import { mkdir, open, rename, type FileHandle } from "node:fs/promises"
import { dirname } from "node:path"
import { crc32 } from "node:zlib"

/**
 * An append-only log of JSON records, one per line, each prefixed with its CRC32. A write is acknowledged
 * only after `fdatasync`; writes that arrive while one is syncing share the next sync (group commit).
 * On open, a torn or corrupt tail (a `kill -9` mid-write) is cut off; the log is compacted by writing a
 * snapshot to a temporary file and renaming it over the log, so a crash leaves either the old or the new.
 */
export interface LogOptions<T> {
  /** Applies a record that is durable (on replay, and after each sync). */
  apply(record: T): void
  /** The records that rebuild the current state, for compaction. */
  snapshot(): Iterable<T>
  /** Compact once the log is this many bytes and twice the size of the last snapshot. */
  compactAfterBytes?: number
}

interface Pending<T> {
  record: T
  line: string
  resolve(): void
  reject(error: unknown): void
}

function encode(record: unknown): string {
  const json = JSON.stringify(record)
  return `${crc32(json).toString(16).padStart(8, "0")}\t${json}\n`
}

/** Parses the intact prefix of a log; returns the records and the byte length they occupy. */
function decode<T>(content: Buffer): { records: T[]; validBytes: number } {
  const records: T[] = []
  let offset = 0
  while (offset < content.length) {
    const end = content.indexOf(0x0a, offset)
    if (end < 0) break
    const line = content.toString("utf8", offset, end)
    const tab = line.indexOf("\t")
    const json = line.slice(tab + 1)
    if (tab !== 8 || parseInt(line.slice(0, 8), 16) !== crc32(json)) break
    try {
      records.push(JSON.parse(json) as T)
    } catch {
      break
    }
    offset = end + 1
  }
  return { records, validBytes: offset }
}

export class DurableLog<T> {
  private pending: Pending<T>[] = []
  private flushing: Promise<void> | undefined
  private compactAt: number

  private constructor(
    private readonly path: string,
    private file: FileHandle,
    private size: number,
    private readonly options: LogOptions<T>,
  ) {
    this.compactAt = Math.max(options.compactAfterBytes ?? 4 * 1024 * 1024, size * 2)
  }

  static async open<T>(path: string, options: LogOptions<T>): Promise<DurableLog<T>> {
    await mkdir(dirname(path), { recursive: true })
    const file = await open(path, "a+")
    const content = await file.readFile()
    const { records, validBytes } = decode<T>(content)
    if (validBytes < content.length) {
      await file.truncate(validBytes)
      await file.datasync()
    }
    for (const record of records) options.apply(record)
    const log = new DurableLog(path, file, validBytes, options)
    if (validBytes > 0 && records.length > 0 && validBytes >= log.compactAt) await log.compact()
    return log
  }

  append(record: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ record, line: encode(record), resolve, reject })
      this.startFlush()
    })
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing
    await this.file.close()
  }

  private startFlush() {
    // A record appended after flush() saw an empty queue but before `flushing` was cleared (a caller resuming
    // on its acknowledgement) would otherwise wait for the next append: start another flush for it.
    this.flushing ??= this.flush().finally(() => {
      this.flushing = undefined
      if (this.pending.length > 0) this.startFlush()
    })
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending
      this.pending = []
      const bytes = Buffer.from(batch.map((entry) => entry.line).join(""))
      try {
        await this.file.appendFile(bytes)
        await this.file.datasync()
      } catch (error) {
        // Cut a partial write off so later records do not follow garbage; the batch is not acknowledged.
        await this.file.truncate(this.size).catch(() => {})
        for (const entry of batch) entry.reject(error)
        continue
      }
      this.size += bytes.length
      for (const entry of batch) {
        this.options.apply(entry.record)
        entry.resolve()
      }
      if (this.size >= this.compactAt) await this.compact()
    }
  }

  /** Rewrites the log as the snapshot of the current state (also done on its own once the log has grown). */
  async compact(): Promise<void> {
    const temporary = `${this.path}.compact`
    const out = await open(temporary, "w")
    let size = 0
    try {
      let chunk: string[] = []
      for (const record of this.options.snapshot()) {
        chunk.push(encode(record))
        if (chunk.length === 512) {
          const bytes = Buffer.from(chunk.join(""))
          await out.write(bytes)
          size += bytes.length
          chunk = []
        }
      }
      const bytes = Buffer.from(chunk.join(""))
      await out.write(bytes)
      size += bytes.length
      await out.datasync()
    } finally {
      await out.close()
    }
    await rename(temporary, this.path)
    const directory = await open(dirname(this.path), "r")
    await directory.sync().finally(() => directory.close())
    await this.file.close()
    this.file = await open(this.path, "a+")
    this.size = size
    this.compactAt = Math.max(this.options.compactAfterBytes ?? 4 * 1024 * 1024, size * 2)
  }
}
