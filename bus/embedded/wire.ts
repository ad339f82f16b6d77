/**
 * The shared-bus protocol between the process that owns a data directory and
 * its clients, on a Unix socket.
 *
 * A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON.
 * Every request carries an `id`; the owner answers each with one response of
 * the same id, `{ id, ok: true, result }` or `{ id, ok: false, error }`.
 * Record values travel as base64. A read is a stream the client pulls chunk
 * by chunk (`readOpen`, then `readNext` until `done`, or `readClose`), so
 * neither side holds more than a chunk or two of a long range.
 *
 * Invariants:
 * - No frame is larger than {@link MAX_FRAME_BYTES}; a peer that announces a
 *   larger one is a protocol error and its connection is dropped.
 * - Numbers that JSON cannot carry (NaN, ±Infinity) arrive as `NaN`, so the
 *   owner's own validation rejects them exactly as a local call would.
 * - An error crosses as its tag, name, message and JSON-plain fields (a
 *   `ChorusError`'s `details` and `hint` among them); the client re-creates
 *   the bus's own error classes, every class `errors.ts` exports, so
 *   `instanceof`, `_tag` and `details` hold, and wraps anything else in a
 *   `RemoteBusError` with the same tag.
 *
 * @module
 */
import type {
  BusRecord,
  LogPosition,
  OutgoingRecord,
  PartitionOffset,
  PartitionWatermarks,
  ReadRangeOptions,
  TopicSpec,
} from "../port.ts"
import * as busErrors from "./errors.ts"
import { BusProtocolError, RemoteBusError } from "./errors.ts"

/** Bumped on any incompatible change; owner and client must agree. */
export const PROTOCOL_VERSION = 1

/** The largest frame either side sends or accepts. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024

/** A read chunk ends after this many records … */
export const READ_CHUNK_RECORDS = 1000
/** … or once its values reach this many bytes (at least one record per chunk). */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024

/** A record as it crosses the socket. */
export interface WireOutgoing {
  readonly topic: string
  readonly key: string | null
  readonly value: string
  readonly headers?: Readonly<Record<string, string>>
  readonly partition?: number | null
  readonly timestamp?: number | null
}

export interface WireRecord {
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: string | null
  readonly value: string
  readonly headers: Readonly<Record<string, string>>
}

export interface WireError {
  readonly tag: string
  readonly name: string
  readonly message: string
  readonly fields: Readonly<Record<string, unknown>>
}

export type Request =
  | { readonly id: number; readonly op: "hello"; readonly version: number }
  | { readonly id: number; readonly op: "ensureTopics"; readonly topics: ReadonlyArray<TopicSpec> }
  | { readonly id: number; readonly op: "partitions"; readonly topic: string }
  | { readonly id: number; readonly op: "publish"; readonly records: ReadonlyArray<WireOutgoing> }
  | { readonly id: number; readonly op: "watermarks"; readonly topic: string }
  | {
      readonly id: number
      readonly op: "offsetsForTimestamp"
      readonly topic: string
      readonly timestamp: number
    }
  | { readonly id: number; readonly op: "committedOffsets"; readonly groupId: string; readonly topic: string }
  | {
      readonly id: number
      readonly op: "readOpen"
      readonly stream: number
      readonly options: ReadRangeOptions
    }
  | { readonly id: number; readonly op: "readNext"; readonly stream: number }
  | { readonly id: number; readonly op: "readClose"; readonly stream: number }

/** What each request resolves to. */
export interface Results {
  readonly hello: { readonly version: number; readonly pid: number; readonly dataDir: string }
  readonly ensureTopics: { readonly created: ReadonlyArray<string>; readonly existing: ReadonlyArray<string> }
  readonly partitions: number
  readonly publish: ReadonlyArray<{
    readonly topic: string
    readonly partition: number
    readonly offset: number
  }>
  readonly watermarks: ReadonlyArray<PartitionWatermarks>
  readonly offsetsForTimestamp: ReadonlyArray<PartitionOffset>
  readonly committedOffsets: ReadonlyArray<PartitionOffset>
  readonly readOpen: null
  readonly readNext: { readonly records: ReadonlyArray<WireRecord>; readonly done: boolean }
  readonly readClose: null
}

export type Response =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError }

/**
 * Frames a message: length prefix and JSON. Throws a `BusProtocolError` over
 * {@link MAX_FRAME_BYTES}.
 *
 * @example
 * ```ts
 * socket.write(encodeFrame({ id: 1, op: "partitions", topic: "chorus.x" }))
 * ```
 */
export function encodeFrame(message: Request | Response): Buffer {
  const body = Buffer.from(JSON.stringify(message), "utf8")
  if (body.length > MAX_FRAME_BYTES) {
    throw new BusProtocolError(
      `a ${"op" in message ? message.op : "response"} frame of ${body.length} bytes exceeds the ` +
        `${MAX_FRAME_BYTES}-byte limit`,
    )
  }
  const frame = Buffer.allocUnsafe(4 + body.length)
  frame.writeUInt32BE(body.length, 0)
  body.copy(frame, 4)
  return frame
}

/**
 * Splits a byte stream into frames' JSON values. Holds at most one partial
 * frame; a length over the limit or a body that is not JSON throws a
 * `BusProtocolError` (the connection is then unusable).
 *
 * @example
 * ```ts
 * const frames = new FrameDecoder()
 * socket.on("data", (chunk) => { for (const message of frames.push(chunk)) handle(message) })
 * ```
 */
export class FrameDecoder {
  private chunks: Buffer[] = []
  private buffered = 0

  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const messages: unknown[] = []
    for (;;) {
      if (this.buffered < 4) return messages
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.flatten()
      const length = head.readUInt32BE(0)
      if (length > MAX_FRAME_BYTES) {
        throw new BusProtocolError(`the peer announced a ${length}-byte frame (limit ${MAX_FRAME_BYTES})`)
      }
      if (this.buffered < 4 + length) return messages
      const all = this.flatten()
      const body = all.subarray(4, 4 + length)
      const rest = all.subarray(4 + length)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
      try {
        messages.push(JSON.parse(body.toString("utf8")))
      } catch (error) {
        throw new BusProtocolError(`a frame is not JSON (${(error as Error).message})`)
      }
    }
  }

  private flatten(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.chunks = [all]
    return all
  }
}

/**
 * A record to publish, for the socket.
 *
 * @example
 * ```ts
 * toWireOutgoing({ topic: "t", key: "k", value: new Uint8Array([1]) }) // => { topic: "t", key: "k", value: "AQ==" }
 * ```
 */
export function toWireOutgoing(record: OutgoingRecord): WireOutgoing {
  // Absent optional fields stay absent: JSON drops the undefined ones.
  const { topic, key, value, headers, partition, timestamp } = record
  return { topic, key, value: base64(value), headers, partition, timestamp }
}

/**
 * The record a client sent, as the owner publishes it.
 *
 * @example
 * ```ts
 * fromWireOutgoing({ topic: "t", key: null, value: "AQ==", timestamp: null }).timestamp // => NaN
 * ```
 */
export function fromWireOutgoing(wire: WireOutgoing): OutgoingRecord {
  return {
    topic: wire.topic,
    key: wire.key,
    value: bytes(wire.value),
    ...(wire.headers === undefined ? {} : { headers: wire.headers }),
    ...(wire.partition === undefined ? {} : { partition: wire.partition ?? Number.NaN }),
    ...(wire.timestamp === undefined ? {} : { timestamp: wire.timestamp ?? Number.NaN }),
  }
}

/**
 * A stored record, for the socket (its topic is the stream's).
 *
 * @example
 * ```ts
 * const chunk = records.map(toWireRecord)
 * ```
 */
export function toWireRecord(record: BusRecord): WireRecord {
  return {
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key,
    value: base64(record.value),
    headers: record.headers,
  }
}

/**
 * A stored record received from the owner.
 *
 * @example
 * ```ts
 * const record = fromWireRecord("chorus.x", wire)
 * ```
 */
export function fromWireRecord(topic: string, wire: WireRecord): BusRecord {
  return {
    topic,
    partition: wire.partition,
    offset: wire.offset,
    timestamp: wire.timestamp,
    key: wire.key,
    value: bytes(wire.value),
    headers: wire.headers,
  }
}

/**
 * Read options with JSON-unsafe numbers in positions kept as NaN, so the
 * owner rejects them as it would locally.
 *
 * @example
 * ```ts
 * fromWireReadOptions({ topic: "t", from: { offset: null } }).from // => { offset: NaN }
 * ```
 */
export function fromWireReadOptions(options: ReadRangeOptions): ReadRangeOptions {
  return {
    topic: options.topic,
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    from: fromWirePosition(options.from),
    ...(options.to === undefined ? {} : { to: fromWirePosition(options.to) }),
  }
}

function fromWirePosition(position: LogPosition): LogPosition {
  if (typeof position !== "object" || position === null) return position
  if ("offset" in position) return { offset: position.offset ?? Number.NaN }
  if ("timestamp" in position) return { timestamp: position.timestamp ?? Number.NaN }
  return position
}

/**
 * An error, for the socket: tag, name, message and its JSON-plain fields.
 *
 * @example
 * ```ts
 * toWireError(new TopicNotFoundError("t")).fields.details // => { topic: "t" }
 * ```
 */
export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) {
    return { tag: "Error", name: "Error", message: String(error), fields: {} }
  }
  const fields = Object.fromEntries(
    Object.entries(error).filter(([name, value]) => name !== "_tag" && isPlain(value)),
  )
  const tag = "_tag" in error && typeof error._tag === "string" ? error._tag : error.name
  return { tag, name: error.name, message: error.message, fields }
}

/** What survives JSON unchanged: primitives, and arrays and plain objects of them. */
function isPlain(value: unknown): boolean {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return true
  if (Array.isArray(value)) return value.every(isPlain)
  return (
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype &&
    Object.values(value).every(isPlain)
  )
}

/** The errors a client re-creates as themselves: the bus's own and the standard ones. */
const KNOWN: ReadonlyMap<string, { prototype: Error }> = new Map<string, { prototype: Error }>([
  ...Object.entries(busErrors).filter(([name]) => name !== "RemoteBusError"),
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["Error", Error],
])

/**
 * Re-creates an error the owner raised: the same class for the bus's own
 * errors and the standard ones, a `RemoteBusError` keeping the tag otherwise.
 * The stack is this process's, so it shows the caller.
 *
 * @example
 * ```ts
 * fromWireError(wire, 4242) instanceof TopicNotFoundError // => true for a TopicNotFoundError's tag
 * ```
 */
export function fromWireError(wire: WireError, ownerPid: number): Error {
  const known = KNOWN.get(wire.tag)
  if (known === undefined) return new RemoteBusError(wire.tag, wire.name, wire.message, ownerPid)
  const error = Object.create(known.prototype) as Error
  Object.assign(error, wire.fields)
  for (const [name, value] of [
    ["message", wire.message],
    ["name", wire.name],
    ["stack", `${wire.name}: ${wire.message}\n    at owner process ${ownerPid}${localStack()}`],
  ] as const) {
    Object.defineProperty(error, name, { value, writable: true, configurable: true, enumerable: false })
  }
  return error
}

function localStack(): string {
  const stack = new Error().stack ?? ""
  const frames = stack.split("\n").slice(3)
  return frames.length > 0 ? `\n${frames.join("\n")}` : ""
}

const base64 = (value: Uint8Array): string =>
  Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")

function bytes(text: string): Uint8Array {
  const buffer = Buffer.from(text, "base64")
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
