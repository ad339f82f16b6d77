/**
 * Envelopes to and from bus records: key, value (JSON) and headers.
 *
 * Decoding is the edge where nothing is trusted. A record is accepted only if
 * its value is JSON, its envelope and payload decode, its type is known, its
 * version is one this build can read (older ones are upcast), its key is the
 * one its content implies, its headers agree with its body (the producer
 * header too, which the producer policy binds to the signing key), and its id is
 * the one its content and cause derive. Anything else is an
 * {@link EventDecodeError} naming every field that is wrong.
 *
 * @module
 */
import { Exit, Schema } from "effect"
import { type ChorusEvent, EventCatalog, type EventDefinition, isEventType } from "./catalog.ts"
import { EventDecodeError, type FieldIssue, issuesOf } from "./decode-error.ts"
import { type Envelope, EnvelopeWire, eventId, payloadTextOf } from "./envelope.ts"

/** The header names every event record carries. */
export const HEADERS = {
  id: "chorus-id",
  type: "chorus-type",
  version: "chorus-version",
  correlationId: "chorus-correlation-id",
  causationId: "chorus-causation-id",
  /** `service/instance`: what the producer policy (`bus/authentication/`) binds to the signing key. */
  producer: "chorus-producer",
  contentType: "content-type",
} as const

/** The bytes of a record, without topic or position. */
export interface RecordBytes {
  readonly key: string | null
  readonly value: Uint8Array
  readonly headers: Readonly<Record<string, string>>
}

/**
 * The producer as the `chorus-producer` header names it.
 *
 * @example
 * ```ts
 * producerClaim({ service: "submitter", instance: "902" }) // "submitter/902"
 * ```
 */
export const producerClaim = (producer: { readonly service: string; readonly instance: string }): string =>
  `${producer.service}/${producer.instance}`

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

/**
 * Encodes an envelope as a record.
 *
 * @example
 * ```ts
 * const { key, value, headers } = encodeEnvelope(makeEnvelope(event, context))
 * ```
 */
export const encodeEnvelope = (envelope: Envelope): RecordBytes => {
  const head: Omit<typeof EnvelopeWire.Encoded, "payload"> = {
    id: envelope.id,
    type: envelope.type,
    version: envelope.version,
    time: envelope.time,
    producer: {
      service: envelope.producer.service,
      instance: envelope.producer.instance,
      version: envelope.producer.version,
    },
    correlationId: envelope.correlationId,
    causationId: envelope.causationId,
  }
  // The payload goes last, in canonical order: a consumer re-derives the id from the payload it parses, and
  // a payload already in canonical order is written for that by the engine's JSON.stringify.
  const wire = `${JSON.stringify(head).slice(0, -1)},"payload":${payloadTextOf(envelope)}}`
  const headers: Record<string, string> = {
    [HEADERS.id]: envelope.id,
    [HEADERS.type]: envelope.type,
    [HEADERS.version]: String(envelope.version),
    [HEADERS.producer]: producerClaim(envelope.producer),
    [HEADERS.contentType]: "application/json",
  }
  if (envelope.correlationId !== null) headers[HEADERS.correlationId] = envelope.correlationId
  if (envelope.causationId !== null) headers[HEADERS.causationId] = envelope.causationId
  return { key: envelope.key, value: encoder.encode(wire), headers }
}

const fail = (issues: ReadonlyArray<FieldIssue>) => ({
  ok: false as const,
  error: new EventDecodeError(issues),
})

/**
 * Decodes a record into an envelope, or says exactly what is wrong with it.
 *
 * @example
 * ```ts
 * const decoded = decodeRecord(record)
 * if (!decoded.ok) console.error(decoded.error.issues)
 * ```
 */
export const decodeRecord = (
  record: RecordBytes,
):
  | { readonly ok: true; readonly value: Envelope }
  | { readonly ok: false; readonly error: EventDecodeError } => {
  let json: unknown
  try {
    json = JSON.parse(decoder.decode(record.value))
  } catch (cause) {
    return fail([{ path: "", message: `value is not UTF-8 JSON (${(cause as Error).message})` }])
  }
  const wireExit = Schema.decodeUnknownExit(EnvelopeWire)(json, { errors: "all" })
  if (Exit.isFailure(wireExit)) {
    const error = wireExit.cause.reasons.find((r) => r._tag === "Fail")?.error
    return fail(error ? issuesOf(error) : [{ path: "", message: "envelope did not decode" }])
  }
  const wire = wireExit.value
  if (!isEventType(wire.type)) {
    return fail([{ path: "type", message: `unknown event type ${JSON.stringify(wire.type)}` }])
  }
  const definition = EventCatalog[wire.type] as unknown as EventDefinition<ChorusEvent>
  if (wire.version > definition.version) {
    return fail([
      {
        path: "version",
        message: `version ${wire.version} of ${wire.type} is newer than this build reads (${definition.version}); upgrade this consumer`,
      },
    ])
  }
  const issues: FieldIssue[] = []
  const headerChecks: ReadonlyArray<[string, string | null]> = [
    [HEADERS.id, wire.id],
    [HEADERS.type, wire.type],
    [HEADERS.version, String(wire.version)],
    [HEADERS.correlationId, wire.correlationId],
    [HEADERS.causationId, wire.causationId],
    [HEADERS.producer, producerClaim(wire.producer)],
  ]
  for (const [name, expected] of headerChecks) {
    const actual = record.headers[name]
    if (actual !== undefined && actual !== expected) {
      issues.push({
        path: `headers.${name}`,
        message: `header says ${JSON.stringify(actual)} but the body says ${JSON.stringify(expected)}`,
      })
    }
  }
  let derivedId: string
  try {
    derivedId = eventId({
      type: wire.type,
      version: wire.version,
      causationId: wire.causationId,
      payload: wire.payload,
    })
  } catch (cause) {
    // JSON reads a number too large as Infinity, which has no canonical form, and a payload nested past the
    // stack has none this process can write: either is a record to refuse, never one to throw on (a throw
    // would be retried forever and stall the partition).
    return fail([
      {
        path: "payload",
        message: `no event id can be derived from it (${cause instanceof RangeError ? "nested too deeply" : (cause as Error).message})`,
      },
    ])
  }
  if (derivedId !== wire.id) {
    issues.push({
      path: "id",
      message: `does not match the id derived from type, version, cause and payload (${derivedId})`,
    })
  }
  let payload: unknown = wire.payload
  for (let v = wire.version; v < definition.version; v++) {
    const upcast = definition.upcasters[v]
    if (upcast === undefined) {
      return fail([{ path: "version", message: `no upcaster from version ${v} of ${wire.type}` }])
    }
    payload = upcast(payload)
  }
  const eventExit = Schema.decodeUnknownExit(definition.schema)(
    { ...(payload as object), _tag: wire.type },
    { errors: "all" },
  )
  if (Exit.isFailure(eventExit)) {
    const error = eventExit.cause.reasons.find((r) => r._tag === "Fail")?.error
    issues.push(...(error ? issuesOf(error, ["payload"]) : [{ path: "payload", message: "did not decode" }]))
    return fail(issues)
  }
  const event = eventExit.value
  const key = definition.key(event)
  if (record.key !== key) {
    issues.push({
      path: "key",
      message: `record key ${JSON.stringify(record.key)} is not the key its content implies (${JSON.stringify(key)})`,
    })
  }
  const correlationId = definition.correlationId(event)
  if (wire.correlationId !== correlationId) {
    issues.push({
      path: "correlationId",
      message: `is ${JSON.stringify(wire.correlationId)} but the content implies ${JSON.stringify(correlationId)}`,
    })
  }
  if (issues.length > 0) return fail(issues)
  return {
    ok: true,
    value: {
      id: wire.id,
      type: wire.type,
      version: definition.version,
      time: wire.time,
      producer: wire.producer,
      key,
      correlationId,
      causationId: wire.causationId,
      event,
    },
  }
}
