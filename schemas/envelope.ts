/**
 * The envelope every event travels in.
 *
 * The id is deterministic — derived from the event's type, schema version,
 * cause and content, never from the time or the producing instance — so a
 * replay of a service over its input log produces the same ids, and the
 * shadow output can be diffed against production event by event.
 *
 * @module
 */
import { Schema } from "effect"
import { keccak256OfText } from "../crypto/keccak.ts"
import { canonicalJson } from "./canonical-json.ts"
import { type ChorusEvent, definitionOf } from "./catalog.ts"
import { EventId, IsoTime, MessageId, Uint } from "./primitives.ts"

/** Who wrote an event: the service, which instance of it, and which build. */
export class Producer extends Schema.Class<Producer>("Producer")({
  service: Schema.NonEmptyString,
  instance: Schema.NonEmptyString,
  version: Schema.NonEmptyString,
}) {}

/** The envelope's fields as they travel; the payload is decoded by its type's schema. */
export const EnvelopeWire = Schema.Struct({
  id: EventId,
  type: Schema.NonEmptyString,
  version: Uint,
  time: IsoTime,
  producer: Producer,
  correlationId: Schema.NullOr(MessageId),
  causationId: Schema.NullOr(EventId),
  payload: Schema.Unknown,
})
export type EnvelopeWire = typeof EnvelopeWire.Type

/** A decoded event in its envelope. `key` is the record key it travels under. */
export interface Envelope<E extends ChorusEvent = ChorusEvent> {
  readonly id: EventId
  readonly type: E["_tag"]
  readonly version: number
  readonly time: IsoTime
  readonly producer: Producer
  readonly key: string
  readonly correlationId: MessageId | null
  readonly causationId: EventId | null
  readonly event: E
}

/**
 * The deterministic id: keccak256 over the canonical JSON of type, version,
 * cause and the encoded payload.
 *
 * @example
 * ```ts
 * const id = eventId({ type: "WatcherCursor", version: 1, causationId: null, payload: { ... } })
 * ```
 */
export const eventId = (input: {
  readonly type: string
  readonly version: number
  readonly causationId: string | null
  readonly payload: unknown
}): EventId => eventIdOfText({ ...input, payloadText: canonicalJson(input.payload) })

/**
 * `eventId`, for a payload already in its canonical JSON: the id's canonical object is written around it
 * (its keys, causationId < payload < type < version, are in canonical order).
 */
const eventIdOfText = (input: {
  readonly type: string
  readonly version: number
  readonly causationId: string | null
  readonly payloadText: string
}): EventId =>
  EventId.make(
    keccak256OfText(
      `{"causationId":${canonicalJson(input.causationId)},"payload":${input.payloadText},` +
        `"type":${canonicalJson(input.type)},"version":${canonicalJson(input.version)}}`,
    ),
  )

/**
 * The canonical JSON of each envelope's encoded payload, as `makeEnvelope` wrote it for the id, so that
 * encoding the envelope as a record writes it again without encoding the event a second time.
 */
const payloadTexts = new WeakMap<Envelope, string>()

/**
 * The canonical JSON of an envelope's payload, encoded by its type's schema: what its record carries and
 * its id is derived from.
 *
 * @example
 * ```ts
 * payloadTextOf(makeEnvelope(event, context)) // '{"block":{…},"chainId":901,…}'
 * ```
 */
export const payloadTextOf = (envelope: Envelope): string =>
  payloadTexts.get(envelope) ??
  canonicalJson(Schema.encodeSync(definitionOf(envelope.event).schema)(envelope.event))

/** What a producer says about itself and the event's cause when it makes an envelope. */
export interface EnvelopeContext {
  readonly producer: Producer
  /** The event this one was derived from (its id), or null for facts read from outside. */
  readonly causationId: EventId | null
  /** When the event happened; pure cores pass the time of their input. */
  readonly time: Date
}

/**
 * Wraps an event in its envelope, deriving key, correlation id and event id.
 *
 * @example
 * ```ts
 * const envelope = makeEnvelope(new WatcherCursor({ ... }), {
 *   producer: new Producer({ service: "chain-watcher", instance: "901", version: "0.1.0" }),
 *   causationId: null,
 *   time: new Date(),
 * })
 * ```
 */
export const makeEnvelope = <E extends ChorusEvent>(event: E, context: EnvelopeContext): Envelope<E> => {
  const definition = definitionOf(event)
  const payloadText = canonicalJson(Schema.encodeSync(definition.schema)(event))
  const envelope: Envelope<E> = {
    id: eventIdOfText({
      type: event._tag,
      version: definition.version,
      causationId: context.causationId,
      payloadText,
    }),
    type: event._tag,
    version: definition.version,
    time: IsoTime.make(context.time.toISOString()),
    producer: context.producer,
    key: definition.key(event),
    correlationId: definition.correlationId(event),
    causationId: context.causationId,
    event,
  }
  payloadTexts.set(envelope, payloadText)
  return envelope
}
