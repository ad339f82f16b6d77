/**
 * The largest record either bus accepts, checked before anything of a batch
 * is written. Kafka's broker refuses a batch over `message.max.bytes`
 * (1,048,588 bytes by default) only after the producer sent it, with an
 * error that names neither the topic nor the record; and a record the broker
 * refuses would be retried forever by a handler that must publish it.
 * Refusing it here, with its topic, key and size, turns that into one clear
 * error, the same on both buses.
 *
 * @module
 */
import { ChorusError } from "../errors/index.ts"
import type { OutgoingRecord } from "./port.ts"

/** Below Kafka's default `message.max.bytes`, with room for the batch's own framing. */
export const MAX_RECORD_BYTES = 1_000_000

/**
 * A record's size as a broker counts it, near enough: key, value and headers.
 *
 * @example
 * ```ts
 * recordSize({ topic: "t", key: "k", value: new Uint8Array(10) }) // 11
 * ```
 */
export const recordSize = (record: OutgoingRecord): number => {
  // Counted, not encoded: every record a service publishes passes here.
  let size = record.value.length + (record.key === null ? 0 : Buffer.byteLength(record.key, "utf8"))
  const headers = record.headers
  if (headers !== undefined) {
    for (const name in headers)
      size += Buffer.byteLength(name, "utf8") + Buffer.byteLength(headers[name]!, "utf8")
  }
  return size
}

/** A record too large for the bus: refused before anything of its batch was written. */
export class RecordTooLargeError extends ChorusError {
  override readonly name = "RecordTooLargeError"
  readonly topic: string
  readonly size: number

  constructor(record: OutgoingRecord, size: number, limit: number) {
    super(`A record for ${record.topic} is ${size} bytes, over the bus's limit of ${limit} bytes`, {
      details: { topic: record.topic, key: record.key?.slice(0, 200) ?? null, size, limit },
      hint: "Nothing of the batch was written. Split what the record carries (a proof into chunks, say), or raise the broker's message.max.bytes and MAX_RECORD_BYTES together.",
    })
    this.topic = record.topic
    this.size = size
  }
}

/**
 * Throws {@link RecordTooLargeError} for a record over `limit`.
 *
 * @example
 * ```ts
 * for (const record of records) assertRecordSize(record)
 * ```
 */
export const assertRecordSize = (record: OutgoingRecord, limit = MAX_RECORD_BYTES): void => {
  const size = recordSize(record)
  if (size > limit) throw new RecordTooLargeError(record, size, limit)
}
