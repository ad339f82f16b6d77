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
const encoder = new TextEncoder()
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
  const key = record.key === null ? null : encoder.encode(record.key)
  const headers = Object.entries(record.headers).map(
    ([name, value]) => [encoder.encode(name), encoder.encode(value)] as const,
  )
  if (headers.length > 0xffff) throw new RangeError(`too many headers: ${headers.length} (at most 65535)`)
  let size = 1 + 1 + 8 + 8 + 4 + record.value.length + 2
  if (key !== null) size += 4 + key.length
  for (const [name, value] of headers) size += 8 + name.length + value.length

  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size)
  let at = FRAME_HEADER_BYTES
  at = frame.writeUInt8(VERSION, at)
  at = frame.writeUInt8(key === null ? 0 : KEY_FLAG, at)
  at = frame.writeBigUInt64BE(BigInt(record.offset), at)
  at = frame.writeBigInt64BE(BigInt(Math.trunc(record.timestamp)), at)
  if (key !== null) at = writeBytes(frame, at, key)
  at = writeBytes(frame, at, record.value)
  at = frame.writeUInt16BE(headers.length, at)
  for (const [name, value] of headers) {
    at = writeBytes(frame, at, name)
    at = writeBytes(frame, at, value)
  }
  const payload = frame.subarray(FRAME_HEADER_BYTES)
  frame.writeUInt32BE(size, 0)
  frame.writeUInt32BE(crc32(payload), 4)
  return frame
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

function writeBytes(target: Buffer, at: number, bytes: Uint8Array): number {
  const next = target.writeUInt32BE(bytes.length, at)
  target.set(bytes, next)
  return next + bytes.length
}
