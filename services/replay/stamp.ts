/**
 * A core's outputs as the records a shadow gets: each stamped as production
 * stamps it (caused by its input, at its input's time, under production's
 * producer) and encoded by the record codec, byte for byte what
 * `encodeEnvelope(stampOutputs(producer, input, outputs)[i])` gives.
 *
 * That path encodes every payload twice (`makeEnvelope` for the id,
 * `encodeEnvelope` for the record) and builds the id's canonical JSON with
 * sorts and intermediate arrays; a replay stamps every output of a log, so
 * this encodes once and writes the canonical JSON in one pass.
 *
 * Invariants:
 * - The first output of each event type is also made the codec's way, and
 *   compared; a type whose two records differ (the codec changed and this
 *   did not follow) is made the codec's way from then on.
 * - `canonicalJsonText` gives `canonicalJson`'s string for every JSON value
 *   (`stamp.test.ts` holds it to it), and throws where it throws.
 *
 * @module
 */
import { Schema } from "effect"
import type { Headers } from "../../bus/port.ts"
import { keccak256 } from "../../crypto/keccak.ts"
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

const encoder = new TextEncoder()

/**
 * `canonicalJson`, in one pass: object keys sorted, no whitespace.
 *
 * @example
 * ```ts
 * canonicalJsonText({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 * ```
 */
export const canonicalJsonText = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`)
      return JSON.stringify(value)
    case "boolean":
      return value ? "true" : "false"
    case "object": {
      if (value === null) return "null"
      if (Array.isArray(value)) {
        let out = "["
        for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJsonText(value[i])
        return `${out}]`
      }
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).sort()
      let out = "{"
      let first = true
      for (const key of keys) {
        const item = record[key]
        if (item === undefined) continue
        out += `${first ? "" : ","}${JSON.stringify(key)}:${canonicalJsonText(item)}`
        first = false
      }
      return `${out}}`
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form; encode it first`)
  }
}

/**
 * An output as its shadow record, made in one pass (one payload encoding). Its id is `eventId`'s:
 * keccak256 over the canonical JSON of cause, payload, type and version.
 *
 * @example
 * ```ts
 * stampEncoded(producer, input, event) // what encodeOutput(stampOutputs(producer, input, [event])[0]) gives
 * ```
 */
export const stampEncoded = (producer: Producer, input: StampSource, event: ChorusEvent): EncodedOutput => {
  const definition = definitionOf(event)
  const payload = Schema.encodeSync(definition.schema)(event)
  const id = keccak256(
    encoder.encode(
      canonicalJsonText({ causationId: input.id, payload, type: event._tag, version: definition.version }),
    ),
  ) as EventId
  const correlationId = definition.correlationId(event)
  const wire = {
    id,
    type: event._tag,
    version: definition.version,
    time: new Date(input.time).toISOString(),
    producer: { service: producer.service, instance: producer.instance, version: producer.version },
    correlationId,
    causationId: input.id,
    payload,
  }
  const headers: Record<string, string> = {
    [HEADERS.id]: id,
    [HEADERS.type]: event._tag,
    [HEADERS.version]: String(definition.version),
    [HEADERS.producer]: producerClaim(producer),
    [HEADERS.contentType]: "application/json",
  }
  if (correlationId !== null) headers[HEADERS.correlationId] = correlationId
  if (input.id !== null) headers[HEADERS.causationId] = input.id
  return {
    topic: topicFor(event._tag),
    key: definition.key(event),
    value: encoder.encode(JSON.stringify(wire)),
    headers,
  }
}

/** An output envelope as its shadow record (the production topic; the writer adds the shadow prefix). */
export const encodeOutput = (envelope: Envelope): EncodedOutput => {
  const record = encodeEnvelope(envelope)
  return { topic: topicFor(envelope.type), key: record.key, value: record.value, headers: record.headers }
}

const sameOutput = (a: EncodedOutput, b: EncodedOutput): boolean =>
  a.topic === b.topic &&
  a.key === b.key &&
  Buffer.from(a.value).equals(b.value) &&
  JSON.stringify(Object.entries(a.headers)) === JSON.stringify(Object.entries(b.headers))

/**
 * Stamps and encodes a core's outputs for one producer (see the module's invariants).
 *
 * @example
 * ```ts
 * const stamp = stamper(producer)
 * const record = stamp(input, event) // the bytes encodeEnvelope(stampOutputs(producer, input, [event])[0]) gives
 * ```
 */
export const stamper = (producer: Producer): ((input: StampSource, event: ChorusEvent) => EncodedOutput) => {
  const fast = new Map<string, boolean>()
  return (input, event) => {
    const known = fast.get(event._tag)
    if (known === true) return stampEncoded(producer, input, event)
    const slow = encodeOutput(stampOutputs(producer, input, [event])[0]!)
    if (known === undefined) fast.set(event._tag, sameOutput(stampEncoded(producer, input, event), slow))
    return slow
  }
}
