/**
 * One topic partition: an append-only segment file and its in-memory index.
 *
 * Invariants:
 * - The file is a sequence of frames (`frame.ts`) with offsets 0, 1, 2, …
 *   in order; the log keeps every record (no retention, no compaction), so
 *   the low watermark is always 0.
 * - `append` returns only after the frames were handed to the kernel with
 *   `writeSync` (and `fdatasync` when `fsync: "always"`), so an acknowledged
 *   record survives `kill -9`. A failed write is truncated away, so the file
 *   never keeps half a batch that a later append would bury.
 * - Opening scans every frame, each checked as a decode would check it
 *   (`checkPayload`) but not decoded. A damaged frame at the very end is a torn
 *   write and is truncated with a warning naming the file and byte position;
 *   a damaged frame with more data after it is a {@link SegmentCorruptError},
 *   never skipped.
 * - The index holds each frame's byte position and the running maximum of
 *   timestamps (two numbers per record, in memory), so timestamp look-ups are
 *   a binary search even when producers supplied timestamps out of order.
 *
 * Limit: a length field damaged so that it points past the end of the file
 * looks exactly like a torn write and is truncated as one (with the warning);
 * frames cannot be found past a length that cannot be trusted.
 *
 * @module
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs"
import type { BusRecord, Headers } from "../port.ts"
import { SegmentCorruptError } from "./errors.ts"
import {
  checkPayload,
  decodePayload,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecodeError,
  payloadChecksum,
} from "./frame.ts"
import type { EmbeddedBusLogger } from "./logger.ts"

/** The smallest valid payload: version, flags, offset, timestamp, value length, header count. */
const MIN_PAYLOAD_BYTES = 1 + 1 + 8 + 8 + 4 + 2
const SCAN_CHUNK_BYTES = 1 << 20

export interface AppendRecord {
  readonly timestamp: number
  readonly key: string | null
  readonly value: Uint8Array
  readonly headers: Headers
}

export interface PartitionLogOptions {
  readonly file: string
  readonly topic: string
  readonly partition: number
  readonly fsync: boolean
  readonly logger: EmbeddedBusLogger
}

export class PartitionLog {
  readonly topic: string
  readonly partition: number
  readonly file: string
  private readonly fd: number
  private readonly fsync: boolean
  private readonly positions: number[] = []
  private readonly maxTimestamps: number[] = []
  private size = 0
  private appended: PromiseWithResolvers<void> | undefined
  private closed = false

  private constructor(options: PartitionLogOptions, fd: number) {
    this.topic = options.topic
    this.partition = options.partition
    this.file = options.file
    this.fsync = options.fsync
    this.fd = fd
  }

  /**
   * Opens (creating if missing) and scans a segment file.
   *
   * @example
   * ```ts
   * const log = PartitionLog.open({ file: "/data/topics/t/0.log", topic: "t", partition: 0, fsync: false, logger })
   * log.high // => number of records in the file
   * ```
   */
  static open(options: PartitionLogOptions): PartitionLog {
    const fd = openSync(options.file, "a+")
    const log = new PartitionLog(options, fd)
    try {
      log.scan(options.logger)
    } catch (error) {
      closeSync(fd)
      throw error
    }
    return log
  }

  /** The next offset to be written. */
  get high(): number {
    return this.positions.length
  }

  /** Whether the file was closed (the bus closed or crashed). */
  get isClosed(): boolean {
    return this.closed
  }

  /** The first offset still stored: always 0, since the embedded log keeps everything. */
  get low(): number {
    return 0
  }

  /**
   * Appends records and returns the offset of the first; the rest follow it.
   *
   * @example
   * ```ts
   * const first = log.append([{ timestamp: Date.now(), key: "k", value: bytes, headers: {} }])
   * ```
   */
  append(records: ReadonlyArray<AppendRecord>): number {
    if (this.closed) throw new Error(`segment ${this.file} is closed`)
    const first = this.high
    const frames = records.map((record, i) => encodeFrame({ ...record, offset: first + i }))
    const batch = frames.length === 1 ? frames[0]! : Buffer.concat(frames)
    const start = this.size
    try {
      let written = 0
      while (written < batch.length) {
        written += writeSync(this.fd, batch, written, batch.length - written)
      }
      if (this.fsync) fdatasyncSync(this.fd)
    } catch (error) {
      // Cut the partial batch off now: left in place, the next append would
      // turn it into corruption in the middle of the file.
      try {
        ftruncateSync(this.fd, start)
      } catch {
        // The original error says more than a failed clean-up would.
      }
      throw error
    }
    let at = start
    let max = this.maxTimestamps.at(-1) ?? Number.NEGATIVE_INFINITY
    records.forEach((record, i) => {
      this.positions.push(at)
      max = Math.max(max, record.timestamp)
      this.maxTimestamps.push(max)
      at += frames[i]!.length
    })
    this.size = at
    const appended = this.appended
    this.appended = undefined
    appended?.resolve()
    return first
  }

  /** Resolves at the next append (or close); consumers wait on it instead of polling. */
  nextAppend(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.appended ??= Promise.withResolvers<void>()
    return this.appended.promise
  }

  /**
   * Reads the record at an offset in `[low, high)`.
   *
   * @example
   * ```ts
   * log.read(0).offset // => 0
   * ```
   */
  read(offset: number): BusRecord {
    // A closed fd number may already belong to another file: never read through it.
    if (this.closed) throw new Error(`segment ${this.file} is closed`)
    if (!Number.isInteger(offset) || offset < this.low || offset >= this.high) {
      throw new RangeError(`offset ${offset} is outside [${this.low}, ${this.high}) of ${this.file}`)
    }
    const position = this.positions[offset]!
    const end = offset + 1 < this.high ? this.positions[offset + 1]! : this.size
    const frame = Buffer.allocUnsafe(end - position)
    readFully(this.fd, frame, position)
    const payload = frame.subarray(FRAME_HEADER_BYTES)
    if (payloadChecksum(payload) !== frame.readUInt32BE(4)) {
      throw new SegmentCorruptError(this.file, position, "CRC mismatch on read (the file changed after open)")
    }
    const stored = decodePayload(payload)
    return { topic: this.topic, partition: this.partition, ...stored }
  }

  /** The first offset whose timestamp is at or after `timestamp`, or `high` if none. */
  offsetForTimestamp(timestamp: number): number {
    let lo = 0
    let hi = this.high
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.maxTimestamps[mid]! >= timestamp) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** Closes the file; waiting consumers are woken so they can notice. */
  close(): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
    const appended = this.appended
    this.appended = undefined
    appended?.resolve()
  }

  private scan(logger: EmbeddedBusLogger): void {
    const size = fstatSync(this.fd).size
    const reader = new ChunkReader(this.fd, size)
    let position = 0
    let max = Number.NEGATIVE_INFINITY
    while (position < size) {
      const problem = this.checkFrame(reader, position, size)
      if (problem === undefined) {
        const length = reader.bytes(position, FRAME_HEADER_BYTES).readUInt32BE(0)
        const payload = reader.bytes(position + FRAME_HEADER_BYTES, length)
        const timestamp = Number(payload.readBigInt64BE(10))
        this.positions.push(position)
        max = Math.max(max, timestamp)
        this.maxTimestamps.push(max)
        position += FRAME_HEADER_BYTES + length
        continue
      }
      if (!problem.torn) throw new SegmentCorruptError(this.file, position, problem.reason)
      logger.warn(
        `torn tail in ${this.file} at byte ${position}: ${problem.reason}; ` +
          `truncating ${size - position} bytes (records from an unacknowledged write)`,
      )
      ftruncateSync(this.fd, position)
      fdatasyncSync(this.fd)
      break
    }
    this.size = position
  }

  /** Why the frame at `position` is bad, and whether that is a torn tail; undefined if it is good. */
  private checkFrame(
    reader: ChunkReader,
    position: number,
    size: number,
  ): { readonly torn: boolean; readonly reason: string } | undefined {
    const remaining = size - position
    // A crash can leave zeros where the filesystem extended the file but the data never landed.
    const tornOrCorrupt = (reason: string) => ({
      torn: reader.allZero(position, size),
      reason,
    })
    if (remaining < FRAME_HEADER_BYTES) {
      return { torn: true, reason: `only ${remaining} bytes left, less than a frame header` }
    }
    const header = reader.bytes(position, FRAME_HEADER_BYTES)
    const length = header.readUInt32BE(0)
    if (length < MIN_PAYLOAD_BYTES) return tornOrCorrupt(`declared length ${length} is below the minimum`)
    if (FRAME_HEADER_BYTES + length > remaining) {
      return { torn: true, reason: `declared length ${length} runs past the end of the file` }
    }
    const payload = reader.bytes(position + FRAME_HEADER_BYTES, length)
    if (payloadChecksum(payload) !== header.readUInt32BE(4)) {
      const last = FRAME_HEADER_BYTES + length === remaining
      return last ? { torn: true, reason: "CRC mismatch in the last frame" } : tornOrCorrupt("CRC mismatch")
    }
    // The CRC matched: whatever is wrong now was written that way, so it is never a torn write.
    try {
      const stored = checkPayload(payload)
      if (stored.offset !== this.high) {
        return { torn: false, reason: `frame holds offset ${stored.offset}, expected ${this.high}` }
      }
    } catch (error) {
      if (error instanceof FrameDecodeError) return { torn: false, reason: error.message }
      throw error
    }
    return undefined
  }
}

/** Sequential reads of a file in large chunks, for the scan on open. */
class ChunkReader {
  private readonly fd: number
  private readonly size: number
  private buffer = Buffer.alloc(0)
  private bufferStart = 0

  constructor(fd: number, size: number) {
    this.fd = fd
    this.size = size
  }

  bytes(position: number, length: number): Buffer {
    const end = position + length
    if (position < this.bufferStart || end > this.bufferStart + this.buffer.length) {
      const chunk = Math.min(Math.max(length, SCAN_CHUNK_BYTES), this.size - position)
      this.buffer = Buffer.allocUnsafe(chunk)
      readFully(this.fd, this.buffer, position)
      this.bufferStart = position
    }
    return this.buffer.subarray(position - this.bufferStart, end - this.bufferStart)
  }

  allZero(from: number, to: number): boolean {
    for (let at = from; at < to; at += SCAN_CHUNK_BYTES) {
      const chunk = this.bytes(at, Math.min(SCAN_CHUNK_BYTES, to - at))
      for (const byte of chunk) if (byte !== 0) return false
    }
    return true
  }
}

function readFully(fd: number, target: Buffer, position: number): void {
  let read = 0
  while (read < target.length) {
    const n = readSync(fd, target, read, target.length - read, position + read)
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + read}`)
    read += n
  }
}
