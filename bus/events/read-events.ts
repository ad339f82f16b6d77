import type { Envelope, EventDecodeError } from "../../schemas/index.ts"
import type { UnauthenticatedRecordError } from "../authentication/unauthenticated-error.ts"
import type { BusPort, BusRecord, ReadRangeOptions } from "../port.ts"
import { assertDeclared } from "./assert-declared.ts"
import { decodeAuthenticated } from "./decode-authenticated.ts"

/** Why a read record is not an event a reader may use. */
export type ReadError = EventDecodeError | UnauthenticatedRecordError

/** A record of a range read: decoded, or the reason it does not decode. */
export type ReadEvent =
  | { readonly ok: true; readonly envelope: Envelope; readonly record: BusRecord }
  | {
      readonly ok: false
      readonly error: ReadError
      readonly record: BusRecord
    }

/**
 * Reads a range of a declared topic and decodes each record. Undecodable
 * records, and on an authenticating bus the records no trusted producer
 * wrote, are yielded as failures, not skipped, so readers can report them.
 *
 * @example
 * ```ts
 * for await (const item of readEvents(bus, { topic: TOPICS.deliveries.name, from: "earliest" })) {
 *   if (item.ok) console.log(item.envelope.type)
 * }
 * ```
 */
export async function* readEvents(bus: BusPort, options: ReadRangeOptions): AsyncIterable<ReadEvent> {
  assertDeclared(options.topic)
  for await (const record of bus.read(options)) {
    const decoded = decodeAuthenticated(bus, record)
    yield decoded.ok
      ? { ok: true, envelope: decoded.value, record }
      : { ok: false, error: decoded.error, record }
  }
}
