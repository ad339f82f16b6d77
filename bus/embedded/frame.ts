/**
 * The on-disk frame of one record.
 *
 * A frame is `[u32 length][u32 CRC-32 of payload][payload]`, big-endian, where
 * `length` counts the payload bytes only. The payload is
 *
 * ```
 * u8 version (1) | u8 flags (bit 0: key present) | u64 offset | i64 timestamp
 * | [u32 keyLength | key UTF-8]  (only with the key flag)
 * | u32 valueLength | value
 * | u16 headerCount | (u32 nameLength | name UTF-8 | u32 valueLength | value UTF-8)*
 * ```
 *
 * Invariants: a frame is self-checking (the CRC covers every payload byte, so
 * a torn or flipped frame is detected, never decoded into a wrong record), and
 * the offset is stored inside so a scan can prove frames are contiguous.
 *
 * @module
 */
import { isUtf8 } from "node:buffer"
import { crc32 } from "node:zlib"
import { ChorusError } from "../../errors/index.ts"
import type { Headers } from "../port.ts"

/** Bytes before the payload: length and CRC. */
export const FRAME_HEADER_BYTES = 8

const VERSION = 1
const KEY_FLAG = 1
const decoder = new TextDecoder("utf-8", { fatal: true })

/** A record as the log stores it; topic and partition are implied by the file. */
export interface StoredRecord {
  readonly offset: number
  readonly timestamp: number
  readonly key: string | null
  readonly value: Uint8Array
  readonly headers: Headers
}

/** The payload decoded but inconsistent: a bug or damage the CRC did not catch. */
export class FrameDecodeError extends ChorusError {
  override readonly name = "FrameDecodeError"
  constructor(reason: string) {
    super(`frame payload does not decode: ${reason}`, { details: { reason } })
  }
}

/**
 * Encodes one record as a complete frame, ready to append.
 *
 * @example
 * ```ts
 * const frame = encodeFrame({ offset: 0, timestamp: Date.now(), key: "k", value: new Uint8Array([1]), headers: {} })
 * frame.readUInt32BE(0) === frame.length - FRAME_HEADER_BYTES // => true
 * ```
 */
export function encodeFrame(record: StoredRecord): Buffer {
  const frame = Buffer.allocUnsafe(frameLength(record))
  writeFrame(frame, 0, record, record.offset)
  return frame
}

/**
 * Encodes records as consecutive frames in one buffer, the first at offset `first` and each next one after it:
 * what an append writes, without a buffer per record and a copy to join them.
 *
 * @example
 * ```ts
 * const { bytes, lengths } = encodeFrames(records, 42)
 * decodePayload(bytes.subarray(FRAME_HEADER_BYTES, lengths[0])).offset // => 42
 * ```
 */
export function encodeFrames(
  records: ReadonlyArray<Omit<StoredRecord, "offset">>,
  first: number,
): { readonly bytes: Buffer; readonly lengths: ReadonlyArray<number> } {
  const lengths = records.map(frameLength)
  const bytes = Buffer.allocUnsafe(lengths.reduce((sum, length) => sum + length, 0))
  let at = 0
  records.forEach((record, i) => {
    writeFrame(bytes, at, record, first + i)
    at += lengths[i]!
  })
  return { bytes, lengths }
}

/**
 * The bytes a record's frame takes. Texts are measured and written as UTF-8 straight into the frame (a lone
 * surrogate as U+FFFD, as `TextEncoder` writes it): encoding each of a record's seven texts into its own
 * array first was most of the cost of a write.
 */
const frameLength = (record: Omit<StoredRecord, "offset">): number => {
  let size = FRAME_HEADER_BYTES + 1 + 1 + 8 + 8 + 4 + record.value.length + 2
  if (record.key !== null) size += 4 + Buffer.byteLength(record.key, "utf8")
  let count = 0
  for (const name in record.headers) {
    if (!Object.hasOwn(record.headers, name)) continue
    size += 8 + Buffer.byteLength(name, "utf8") + Buffer.byteLength(record.headers[name]!, "utf8")
    count++
  }
  if (count > 0xffff) throw new RangeError(`too many headers: ${count} (at most 65535)`)
  return size
}

/** Writes a record's frame (of `frameLength(record)` bytes) at `start`, with `offset` as its offset. */
const writeFrame = (target: Buffer, start: number, record: Omit<StoredRecord, "offset">, offset: number) => {
  let at = start + FRAME_HEADER_BYTES
  at = target.writeUInt8(VERSION, at)
  at = target.writeUInt8(record.key === null ? 0 : KEY_FLAG, at)
  at = target.writeBigUInt64BE(BigInt(offset), at)
  at = target.writeBigInt64BE(BigInt(Math.trunc(record.timestamp)), at)
  if (record.key !== null) at = writeText(target, at, record.key)
  at = writeBytes(target, at, record.value)
  const countAt = at
  at += 2
  let count = 0
  for (const name in record.headers) {
    if (!Object.hasOwn(record.headers, name)) continue
    at = writeText(target, at, name)
    at = writeText(target, at, record.headers[name]!)
    count++
  }
  target.writeUInt16BE(count, countAt)
  target.writeUInt32BE(at - start - FRAME_HEADER_BYTES, start)
  target.writeUInt32BE(crc32(target.subarray(start + FRAME_HEADER_BYTES, at)), start + 4)
}

/** The CRC-32 a payload must carry. */
export function payloadChecksum(payload: Uint8Array): number {
  return crc32(payload)
}

/**
 * Decodes a payload (the bytes after length and CRC, already CRC-checked).
 *
 * @example
 * ```ts
 * const frame = encodeFrame(record)
 * decodePayload(frame.subarray(FRAME_HEADER_BYTES)).offset === record.offset // => true
 * ```
 */
export function decodePayload(payload: Buffer): StoredRecord {
  const { offset, timestamp, key, value, headers } = readPayload(payload, decodeText)
  // Copy so a record handed to user code does not pin (or alias) a read buffer. fromEntries defines own
  // properties, so a header named "__proto__" stays a header.
  return { offset, timestamp, key, value: new Uint8Array(value), headers: Object.fromEntries(headers) }
}

/**
 * Checks a payload as {@link decodePayload} does, throwing the same {@link FrameDecodeError}, without
 * decoding its texts or copying its value: what the scan on open needs, the record's offset and timestamp,
 * at a fraction of the cost of decoding every record of the log.
 *
 * @example
 * ```ts
 * checkPayload(encodeFrame(record).subarray(FRAME_HEADER_BYTES)).offset === record.offset // => true
 * ```
 */
export function checkPayload(payload: Buffer): { readonly offset: number; readonly timestamp: number } {
  return readPayload(payload, checkText)
}

/**
 * A text field as the fatal UTF-8 decoder reads it: valid UTF-8 or an error. Keys and header texts are short
 * and many (seven a record), and checking then slicing is several times faster than the decoder; a text that
 * starts with a byte order mark goes to the decoder, which drops the mark.
 */
const decodeText = (bytes: Buffer): string => {
  if (!(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)) {
    if (!isUtf8(bytes)) throw new FrameDecodeError("text is not UTF-8")
    return bytes.toString("utf8")
  }
  try {
    return decoder.decode(bytes)
  } catch {
    throw new FrameDecodeError("text is not UTF-8")
  }
}

const checkText = (bytes: Buffer): void => {
  if (!isUtf8(bytes)) throw new FrameDecodeError("text is not UTF-8")
}

/**
 * Reads a payload's fields in order, each length checked against the payload, and no byte left over; each
 * text field (key, header names and values) is handed to `text` as bytes, which keeps what it returns.
 */
function readPayload<T>(payload: Buffer, text: (bytes: Buffer) => T) {
  let at = 0
  const need = (n: number) => {
    if (at + n > payload.length) throw new FrameDecodeError(`needs ${n} bytes at ${at} of ${payload.length}`)
  }
  const readBytes = (): Buffer => {
    need(4)
    const length = payload.readUInt32BE(at)
    at += 4
    need(length)
    const bytes = payload.subarray(at, at + length)
    at += length
    return bytes
  }

  need(18)
  const version = payload.readUInt8(at++)
  if (version !== VERSION) throw new FrameDecodeError(`unknown version ${version}`)
  const flags = payload.readUInt8(at++)
  const offset = Number(payload.readBigUInt64BE(at))
  at += 8
  const timestamp = Number(payload.readBigInt64BE(at))
  at += 8
  const key = (flags & KEY_FLAG) !== 0 ? text(readBytes()) : null
  const value = readBytes()
  need(2)
  const headerCount = payload.readUInt16BE(at)
  at += 2
  const headers: Array<[T, T]> = []
  for (let i = 0; i < headerCount; i++) headers.push([text(readBytes()), text(readBytes())])
  if (at !== payload.length) throw new FrameDecodeError(`${payload.length - at} trailing bytes`)
  return { offset, timestamp, key, value, headers }
}

function writeText(target: Buffer, at: number, text: string): number {
  const written = target.write(text, at + 4, "utf8")
  target.writeUInt32BE(written, at)
  return at + 4 + written
}

function writeBytes(target: Buffer, at: number, bytes: Uint8Array): number {
  const next = target.writeUInt32BE(bytes.length, at)
  target.set(bytes, next)
  return next + bytes.length
}
