/**
 * Conversions between the port's records and kafkajs's messages, and the
 * offset arithmetic of a produce response.
 *
 * Invariants:
 * - Keys and header values are UTF-8 strings on the bus; values are bytes
 *   and are never copied on the way in (a Buffer view over the Uint8Array).
 * - A produce request carries, per partition, one record batch whose
 *   records keep the order they were given in; the broker answers with the
 *   batch's base offset. The n-th record sent to a partition in one request
 *   therefore has offset `baseOffset + n` — exact, because the idempotent
 *   producer retries a batch whole and never splits or reorders it.
 *
 * @module
 */
import type { IHeaders, KafkaMessage, Message, RecordMetadata } from "kafkajs"
import type { BusRecord, Headers, OutgoingRecord, RecordPosition } from "../port.ts"

const decoder = new TextDecoder()

/** A Buffer sharing the bytes of `bytes` (kafkajs wants Buffers). */
export const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/**
 * The kafkajs message for an outgoing record, sent to `partition`.
 *
 * @example
 * ```ts
 * toKafkaMessage({ topic: "t", key: "k", value: new Uint8Array([1]) }, 2).partition // => 2
 * ```
 */
export const toKafkaMessage = (record: OutgoingRecord, partition: number): Message => ({
  key: record.key,
  value: toBuffer(record.value),
  partition,
  ...(record.headers === undefined ? {} : { headers: { ...record.headers } }),
  ...(record.timestamp === undefined ? {} : { timestamp: String(Math.trunc(record.timestamp)) }),
})

const headerText = (value: IHeaders[string]): string | undefined => {
  if (value === undefined) return undefined
  if (Array.isArray(value)) {
    // Kafka allows repeated header keys; the port keeps one value per key,
    // and the last one wins as in most HTTP-style header maps.
    const last = value[value.length - 1]
    return last === undefined ? undefined : headerText(last)
  }
  return typeof value === "string" ? value : decoder.decode(value)
}

/** The port's headers for a consumed kafkajs message. */
export const fromKafkaHeaders = (headers: IHeaders | undefined): Headers => {
  const result: Record<string, string> = {}
  if (headers === undefined) return result
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue
    const value = headers[name]
    const text = headerText(value)
    if (text !== undefined) result[name] = text
  }
  return result
}

/**
 * The port's record for a consumed kafkajs message.
 *
 * @example
 * ```ts
 * const record = toBusRecord("t", 0, message)
 * record.offset // => Number(message.offset)
 * ```
 */
export const toBusRecord = (topic: string, partition: number, message: KafkaMessage): BusRecord => ({
  topic,
  partition,
  offset: Number(message.offset),
  timestamp: Number(message.timestamp),
  // Buffer's own UTF-8 decoding: faster than a TextDecoder for short keys, and kafkajs hands Buffers.
  key: message.key === null ? null : message.key.toString("utf8"),
  value:
    message.value === null
      ? new Uint8Array(0)
      : new Uint8Array(message.value.buffer, message.value.byteOffset, message.value.byteLength),
  headers: fromKafkaHeaders(message.headers),
})

const slot = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/**
 * Each record's position, in input order, from the produce response.
 * `partitions[i]` is the partition record `i` was sent to.
 *
 * @example
 * ```ts
 * positionsFromResponse(
 *   [{ topic: "t" }, { topic: "t" }, { topic: "t" }] as OutgoingRecord[],
 *   [0, 1, 0],
 *   [{ topicName: "t", partition: 0, baseOffset: "10", errorCode: 0 },
 *    { topicName: "t", partition: 1, baseOffset: "4", errorCode: 0 }],
 * ) // => offsets 10, 4, 11
 * ```
 */
export const positionsFromResponse = (
  records: ReadonlyArray<Pick<OutgoingRecord, "topic">>,
  partitions: ReadonlyArray<number>,
  response: ReadonlyArray<RecordMetadata>,
): ReadonlyArray<RecordPosition> => {
  const base = new Map<string, number>()
  for (const entry of response) {
    const offset = entry.baseOffset ?? entry.offset
    if (offset !== undefined) base.set(slot(entry.topicName, entry.partition), Number(offset))
  }
  const next = new Map<string, number>()
  return records.map((record, index) => {
    const partition = partitions[index]!
    const key = slot(record.topic, partition)
    const first = base.get(key)
    if (first === undefined) {
      throw new Error(`the broker acknowledged no batch for ${record.topic}/${partition}`)
    }
    const rank = next.get(key) ?? 0
    next.set(key, rank + 1)
    return { topic: record.topic, partition, offset: first + rank }
  })
}
