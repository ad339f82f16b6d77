/**
 * What an outgoing record must look like before anything of its batch is
 * written: checked by the owner before a publish, and by a shared-bus client
 * before it encodes the batch (a value that is not bytes cannot cross the
 * socket). Topic and partition are checked by the owner, which knows them.
 *
 * @module
 */
import type { OutgoingRecord } from "../port.ts"
import { assertRecordSize } from "../record-size.ts"

/**
 * Throws a `TypeError`/`RangeError` naming the topic and the field that is wrong, or a
 * `RecordTooLargeError` for a record over the bus's limit.
 *
 * @example
 * ```ts
 * assertRecordShape({ topic: "t", key: null, value: new Uint8Array() }) // passes
 * assertRecordShape({ topic: "t", key: null, value: "text" as never }) // TypeError: record value for t must be a Uint8Array
 * ```
 */
export function assertRecordShape(record: OutgoingRecord): void {
  if (record.key !== null && typeof record.key !== "string") {
    throw new TypeError(`record key for ${record.topic} must be a string or null`)
  }
  if (!(record.value instanceof Uint8Array)) {
    throw new TypeError(`record value for ${record.topic} must be a Uint8Array`)
  }
  if (record.timestamp !== undefined && !Number.isFinite(record.timestamp)) {
    throw new RangeError(`record timestamp for ${record.topic} must be a finite number`)
  }
  if (record.headers !== undefined && (typeof record.headers !== "object" || record.headers === null)) {
    throw new TypeError(`record headers for ${record.topic} must be an object of strings`)
  }
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (typeof value !== "string") throw new TypeError(`header ${name} on ${record.topic} must be a string`)
  }
  assertRecordSize(record)
}
