/**
 * A core's outputs as the records a shadow gets: each stamped as production
 * stamps it (caused by its input, at its input's time, under production's
 * producer) and encoded by the record codec, as production encodes it. The
 * payload is encoded once (`makeEnvelope` keeps its canonical JSON for the
 * codec).
 *
 * @module
 */
import type { Headers } from "../../bus/port.ts"
import {
  type ChorusEvent,
  definitionOf,
  type Envelope,
  type EventId,
  encodeEnvelope,
  HEADERS,
  type Producer,
  producerClaim,
} from "../../schemas/index.ts"
import { topicFor } from "../../topology/index.ts"
import { type StampSource, stampOutputs } from "../runtime/index.ts"

/** A shadow record as a unit made it: the production topic its event belongs to, and the encoded record. */
export interface EncodedOutput {
  readonly topic: string
  readonly key: string | null
  readonly value: Uint8Array
  readonly headers: Headers
}

/** An output envelope as its shadow record (the production topic; the writer adds the shadow prefix). */
export const encodeOutput = (envelope: Envelope): EncodedOutput => {
  const record = encodeEnvelope(envelope)
  return { topic: topicFor(envelope.type), key: record.key, value: record.value, headers: record.headers }
}

/**
 * Stamps and encodes a core's outputs for one producer.
 *
 * @example
 * ```ts
 * const stamp = stamper(producer)
 * const record = stamp(input, event) // the bytes encodeEnvelope(stampOutputs(producer, input, [event])[0]) gives
 * ```
 */
export const stamper =
  (producer: Producer): ((input: StampSource, event: ChorusEvent) => EncodedOutput) =>
  (input, event) =>
    encodeOutput(stampOutputs(producer, input, [event])[0]!)
