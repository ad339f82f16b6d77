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
 * - The in-memory index is sparse, so a process that runs for months does not
 *   grow by a number per record: it holds the byte position of every
 *   `every`-th record and the running maximum of timestamps at each of those
 *   blocks (a timestamp look-up is a binary search over the blocks, then a
 *   walk of at most one block's frame headers, even when producers supplied
 *   timestamps out of order), the positions of the `recent` latest records
 *   (readers at the tail, as services are, read without a walk). A reader
 *   behind keeps its own place (`ReadPlace`): going forward, it finds its
 *   next record, and that record's length, where its last read ended. Any
 *   other read walks at most one block's frames.
 * - A read never trusts a length it did not check: every frame it walks
 *   over or returns has its CRC checked and must hold the offset asked for
 *   (a length field is outside the CRC, and a value may hold a well-formed
 *   frame), a wrong reader's place is dropped for the index, and no read
 *   allocates more than the largest frame the log scanned or appended.
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
  encodeFrames,
  FRAME_HEADER_BYTES,
  FrameDecodeError,
  payloadChecksum,
  type StoredRecord,
} from "./frame.ts"
import type { EmbeddedBusLogger } from "./logger.ts"

/** The smallest valid payload: version, flags, offset, timestamp, value length, header count. */
const MIN_PAYLOAD_BYTES = 1 + 1 + 8 + 8 + 4 + 2
const SCAN_CHUNK_BYTES = 1 << 20

/** How sparse a partition's in-memory index is (see the module doc). */
export interface IndexSpacing {
  /** One block entry (byte position, running maximum timestamp) per this many records. */
  readonly every: number
  /** How many of the latest records' positions are kept. */
  readonly recent: number
}

/** Two numbers per 64 records, and a fixed 8 KB window of recent positions. */
export const INDEX_SPACING: IndexSpacing = { every: 64, recent: 1024 }

/** A frame read and checked: its record, its length (header and payload), and the next frame's declared length. */
interface Frame {
  readonly stored: StoredRecord
  readonly length: number
  readonly nextLength: number | undefined
}

/** Where a frame starts, and its length (header and payload) when known without reading. */
interface FramePlace {
  readonly position: number
  readonly length: number | undefined
}

/**
 * A sequential reader's place, which it keeps and hands to every read: the offset it reads next, where that
 * record starts and how long it is. It starts as {@link readPlace} makes it; `read` keeps it up to date.
 */
export interface ReadPlace {
  offset: number
  position: number
  length: number | undefined
  /** The bytes read ahead of the reader, and of which log and where: its next frames are read from them. */
  ahead: { readonly log: PartitionLog; readonly start: number; readonly bytes: Buffer } | undefined
}

/** A reader's place before its first read: it names no offset, so the first read finds its record. */
export const readPlace = (): ReadPlace => ({ offset: -1, position: 0, length: undefined, ahead: undefined })

/**
 * How much a sequential reader reads at once: one system call for tens of records, not one each (a replay
 * reads whole partitions, and the calls were 9% of its CPU).
 */
const READ_AHEAD_BYTES = 128 * 1024

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
  /** The index's spacing; {@link INDEX_SPACING} unless a test asks for a tiny one. */
  readonly spacing?: IndexSpacing
}

export class PartitionLog {
  readonly topic: string
  readonly partition: number
  readonly file: string
  private readonly fd: number
  private readonly fsync: boolean
  private readonly spacing: IndexSpacing
  /** The byte position of record `k × every`, for each block k. */
  private readonly blockPositions: number[] = []
  /** The running maximum timestamp through the last record of block k (so far, for the last block). */
  private readonly blockMaxTimestamps: number[] = []
  /** The positions of the latest records: offset o at `o % recent`, for o in `[count - recent, count)`. */
  private readonly recentPositions: Float64Array
  private count = 0
  private maxTimestamp = Number.NEGATIVE_INFINITY
  /** The largest frame scanned or appended: no frame of this log is longer, so no read allocates more. */
  private largestFrame = 0
  private size = 0
  private appended: PromiseWithResolvers<void> | undefined
  private closed = false

  private constructor(options: PartitionLogOptions, fd: number) {
    this.topic = options.topic
    this.partition = options.partition
    this.file = options.file
    this.fsync = options.fsync
    this.fd = fd
    this.spacing = options.spacing ?? INDEX_SPACING
    this.recentPositions = new Float64Array(this.spacing.recent)
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
    return this.count
  }

  /** The numbers the index holds in memory: its blocks and its window of recent positions. */
  get indexEntries(): number {
    return this.blockPositions.length + this.blockMaxTimestamps.length + this.recentPositions.length
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
    const { bytes: batch, lengths } = encodeFrames(records, first)
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
    records.forEach((record, i) => {
      // The frame stores the timestamp truncated to an integer (`encodeFrames`): the index holds what it stores.
      this.index(at, lengths[i]!, Math.trunc(record.timestamp))
      at += lengths[i]!
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
   * Reads the record at an offset in `[low, high)`; a sequential reader hands its place, which is moved past it.
   *
   * @example
   * ```ts
   * log.read(0).offset // => 0
   * const place = readPlace()
   * for (let offset = 0; offset < log.high; offset++) log.read(offset, place)
   * ```
   */
  read(offset: number, place?: ReadPlace): BusRecord {
    // A closed fd number may already belong to another file: never read through it.
    if (this.closed) throw new Error(`segment ${this.file} is closed`)
    if (!Number.isInteger(offset) || offset < this.low || offset >= this.high) {
      throw new RangeError(`offset ${offset} is outside [${this.low}, ${this.high}) of ${this.file}`)
    }
    const next = offset + 1
    // A reader behind the window reads the next frame's header with this one, so its next read is one read.
    const lookAhead = place !== undefined && next < this.count && !this.inWindow(next)
    let found: { readonly frame: Frame; readonly position: number } | undefined
    if (place !== undefined && place.offset === offset && !this.inWindow(offset) && this.plausible(place)) {
      try {
        found = {
          frame: this.frameAt(place.position, place.length, offset, lookAhead, place),
          position: place.position,
        }
      } catch (error) {
        // A place is the reader's own note, never the last word: a wrong one is found again from the index.
        if (!(error instanceof SegmentCorruptError)) throw error
        place.offset = -1
        place.ahead = undefined
      }
    }
    if (found === undefined) {
      const { position, length } = this.placeOf(offset)
      let frame: Frame
      try {
        frame = this.frameAt(position, length, offset, lookAhead, place)
      } catch (error) {
        // Bytes a reader read ahead are its own note too: only the file itself can say a frame is corrupt.
        if (!(error instanceof SegmentCorruptError) || place?.ahead === undefined) throw error
        place.ahead = undefined
        frame = this.frameAt(position, length, offset, lookAhead, place)
      }
      found = { frame, position }
    }
    const { frame, position } = found
    if (place !== undefined) {
      place.offset = next
      place.position = position + frame.length
      place.length = frame.nextLength
    }
    return { topic: this.topic, partition: this.partition, ...frame.stored }
  }

  /** The first offset whose timestamp is at or after `timestamp`, or `high` if none. */
  offsetForTimestamp(timestamp: number): number {
    if (this.closed) throw new Error(`segment ${this.file} is closed`)
    let lo = 0
    let hi = this.blockMaxTimestamps.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.blockMaxTimestamps[mid]! >= timestamp) hi = mid
      else lo = mid + 1
    }
    if (lo === this.blockMaxTimestamps.length) return this.count
    // The running maximum reaches `timestamp` within block `lo`: walk it from the maximum before it.
    let max = lo === 0 ? Number.NEGATIVE_INFINITY : this.blockMaxTimestamps[lo - 1]!
    const first = lo * this.spacing.every
    const end = Math.min(this.count, first + this.spacing.every)
    let position = this.blockPositions[lo]!
    for (let offset = first; offset < end; offset++) {
      const frame = this.frameAt(position, undefined, offset, false)
      max = Math.max(max, frame.stored.timestamp)
      if (max >= timestamp) return offset
      position += frame.length
    }
    throw new SegmentCorruptError(this.file, position, "a block's timestamps disagree with the index")
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
    while (position < size) {
      const problem = this.checkFrame(reader, position, size)
      if (problem === undefined) {
        const length = reader.bytes(position, FRAME_HEADER_BYTES).readUInt32BE(0)
        const payload = reader.bytes(position + FRAME_HEADER_BYTES, length)
        this.index(position, FRAME_HEADER_BYTES + length, Number(payload.readBigInt64BE(10)))
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

  /** Indexes the next record: its frame starts at `position`, is `length` bytes, and stores `timestamp`. */
  private index(position: number, length: number, timestamp: number): void {
    const offset = this.count
    this.largestFrame = Math.max(this.largestFrame, length)
    this.maxTimestamp = Math.max(this.maxTimestamp, timestamp)
    if (offset % this.spacing.every === 0) {
      this.blockPositions.push(position)
      this.blockMaxTimestamps.push(this.maxTimestamp)
    } else {
      this.blockMaxTimestamps[this.blockMaxTimestamps.length - 1] = this.maxTimestamp
    }
    this.recentPositions[offset % this.spacing.recent] = position
    this.count = offset + 1
  }

  private inWindow(offset: number): boolean {
    return offset >= this.count - this.spacing.recent && offset < this.count
  }

  /** Whether a reader's place can be tried at all: a position inside the data, a whole length if any. */
  private plausible(place: ReadPlace): boolean {
    return (
      Number.isSafeInteger(place.position) &&
      place.position >= 0 &&
      place.position < this.size &&
      (place.length === undefined || Number.isSafeInteger(place.length))
    )
  }

  /** Where the record at `offset` (in `[0, high)`) starts, and its length when known without reading. */
  private placeOf(offset: number): FramePlace {
    const { recent, every } = this.spacing
    if (this.inWindow(offset)) {
      const next = offset + 1
      const position = this.recentPositions[offset % recent]!
      const end =
        next === this.count
          ? this.size
          : this.inWindow(next)
            ? this.recentPositions[next % recent]!
            : undefined
      return { position, length: end === undefined ? undefined : end - position }
    }
    const block = Math.floor(offset / every)
    let position = this.blockPositions[block]!
    // Every frame walked over is checked whole: a length field is not under the CRC, and one changed after
    // open must not lead the walk into the middle of a record, where a value could hold a frame of its own.
    for (let at = block * every; at < offset; at++)
      position += this.frameAt(position, undefined, at, false).length
    return { position, length: undefined }
  }

  /**
   * The frame at `position`, checked: its length (read from its header when not known) no larger than any frame
   * of this log, its CRC, and that it holds `offset`. With `lookAhead`, the next frame's declared length too.
   * A sequential reader's `place` reads ahead.
   */
  private frameAt(
    position: number,
    known: number | undefined,
    offset: number,
    lookAhead: boolean,
    place?: ReadPlace,
  ): Frame {
    const length =
      known ?? FRAME_HEADER_BYTES + this.readBytes(position, FRAME_HEADER_BYTES, place).readUInt32BE(0)
    if (length > this.largestFrame || length < FRAME_HEADER_BYTES + MIN_PAYLOAD_BYTES) {
      throw new SegmentCorruptError(
        this.file,
        position,
        `a frame of ${length} bytes is declared where every frame of this log is ${FRAME_HEADER_BYTES + MIN_PAYLOAD_BYTES}–${this.largestFrame} bytes (the file changed after open)`,
      )
    }
    const ahead = lookAhead && position + length + FRAME_HEADER_BYTES <= this.size
    const bytes = this.readBytes(position, length + (ahead ? FRAME_HEADER_BYTES : 0), place)
    const payload = bytes.subarray(FRAME_HEADER_BYTES, length)
    if (payloadChecksum(payload) !== bytes.readUInt32BE(4)) {
      throw new SegmentCorruptError(this.file, position, "CRC mismatch on read (the file changed after open)")
    }
    const stored = decodePayload(payload)
    if (stored.offset !== offset) {
      throw new SegmentCorruptError(
        this.file,
        position,
        `the frame holds offset ${stored.offset}, not ${offset}`,
      )
    }
    return { stored, length, nextLength: ahead ? FRAME_HEADER_BYTES + bytes.readUInt32BE(length) : undefined }
  }

  /**
   * `length` bytes at `position`, which must lie within the frames scanned or appended. With a reader's
   * `place`, from the bytes it read ahead, or read with the next `READ_AHEAD_BYTES` (never past the frames
   * scanned or appended: bytes of a write that failed and was truncated are never read ahead).
   */
  private readBytes(position: number, length: number, place?: ReadPlace): Buffer {
    if (position + length > this.size) {
      throw new SegmentCorruptError(
        this.file,
        position,
        `a frame runs past the end of the indexed data (${this.size} bytes; the file changed after open)`,
      )
    }
    if (place === undefined) {
      const bytes = Buffer.allocUnsafe(length)
      readFully(this.fd, bytes, position)
      return bytes
    }
    const held = place.ahead
    if (
      held === undefined ||
      held.log !== this ||
      position < held.start ||
      position + length > held.start + held.bytes.length
    ) {
      const bytes = Buffer.allocUnsafe(Math.min(Math.max(length, READ_AHEAD_BYTES), this.size - position))
      readFully(this.fd, bytes, position)
      place.ahead = { log: this, start: position, bytes }
      return bytes.subarray(0, length)
    }
    return held.bytes.subarray(position - held.start, position - held.start + length)
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
