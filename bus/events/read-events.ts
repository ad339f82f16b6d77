import { decodeRecord, type Envelope, type EventDecodeError } from "../../schemas/index.ts"
import type { BusPort, BusRecord, ReadRangeOptions } from "../port.ts"
import { assertDeclared } from "./assert-declared.ts"

/** A record of a range read: decoded, or the reason it does not decode. */
export type ReadEvent =
  | { readonly ok: true; readonly envelope: Envelope; readonly record: BusRecord }
  | { readonly ok: false; readonly error: EventDecodeError; readonly record: BusRecord }

/**
 * Reads a range of a declared topic and decodes each record. Undecodable
 * records are yielded as failures, not skipped, so tools can report them.
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
    const decoded = decodeRecord(record)
    yield decoded.ok
      ? { ok: true, envelope: decoded.value, record }
      : { ok: false, error: decoded.error, record }
  }
}
