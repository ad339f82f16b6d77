/**
 * Decode at the edge, dead-letter what does not decode.
 *
 * Every consumer goes through {@link subscribeDecoding}: a record that no
 * trusted producer wrote (when the bus authenticates, `bus/authentication/`),
 * or whose bytes do not decode, is published to the dead-letter topic — with its raw bytes,
 * the error, and where it came from — and only then is its offset committed,
 * so nothing is lost and nothing is dropped silently. The consumer carries on
 * with the next record.
 *
 * A dead letter is bounded (`MAX_DEAD_LETTER_BYTES`), whatever the record:
 * a value too large to copy travels as a prefix with its size and SHA-256,
 * and an oversized key or header is cut the same way. Otherwise one large
 * garbage record, accepted by the broker, would make a dead letter over the
 * broker's limit, and its consumer would retry it forever, stalling every
 * lane of the partition.
 *
 * @module
 */

import { createHash } from "node:crypto"
import { processMetrics } from "../metrics/process-metrics.ts"
import { TOPICS } from "../topology/topics.ts"
import { UnauthenticatedRecordError } from "./authentication/unauthenticated-error.ts"
import type {
  BusPort,
  BusRecord,
  DeliveryContext,
  SubscribeOptions,
  Subscription,
  TopicPartition,
} from "./port.ts"

/** The dead-letter topic every service writes to, as `topology/` declares it. */
export const DEAD_LETTER_TOPIC = TOPICS.deadLetters.name

/** Why a record did not decode: a message, and the field it concerns where one is known. */
export interface DecodeFailure {
  readonly message: string
  readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>
  /**
   * `unauthenticated`: the bytes may decode, but no producer the deployment trusts wrote them
   * (`bus/authentication/`). Absent: `undecodable`.
   */
  readonly reason?: DeadLetterReason
}

/** Why a record was dead-lettered. */
export const DEAD_LETTER_REASONS = ["undecodable", "unauthenticated"] as const
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number]

/**
 * A reader's error as the dead letter records it: its message and issues, and `unauthenticated` when no
 * trusted producer wrote the record.
 *
 * @example
 * ```ts
 * const decoded = decodeAuthenticated(bus, record)
 * if (!decoded.ok) await publishDeadLetter(bus, record, failureOf(decoded.error), context)
 * ```
 */
export const failureOf = (error: {
  readonly message: string
  readonly issues: DecodeFailure["issues"]
}): DecodeFailure => ({
  message: error.message,
  issues: error.issues,
  ...(error instanceof UnauthenticatedRecordError ? { reason: error.reason } : {}),
})

export type DecodeResult<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly error: DecodeFailure }

/** The dead letter as it travels (the `DeadLetter` schema in `schemas/` decodes it). */
export interface DeadLetterRecord {
  readonly type: "chorus.DeadLetter"
  readonly version: 1
  readonly deadLetteredAt: string
  readonly consumer: { readonly groupId: string; readonly memberId: string }
  readonly source: {
    readonly topic: string
    readonly partition: number
    readonly offset: number
    readonly timestamp: number
  }
  readonly reason: DeadLetterReason
  readonly error: DecodeFailure
  readonly raw: {
    readonly key: string | null
    /** The record's value bytes, base64; only a prefix when `truncated`. */
    readonly valueBase64: string
    readonly headers: Readonly<Record<string, string>>
    /** The value's size in bytes. */
    readonly size: number
    /** SHA-256 of the whole value, hex: what identifies it when only a prefix is kept. */
    readonly sha256: string
    /** Whether the value, the key or a header was cut to fit the bound. */
    readonly truncated: boolean
  }
}

/** The most a dead letter's value may take on the bus: far below Kafka's default 1 MB limit. */
export const MAX_DEAD_LETTER_BYTES = 128 * 1024
/** The most of a record's value a dead letter copies (base64 makes it a third larger). */
const MAX_RAW_VALUE_BYTES = 64 * 1024
/**
 * The most of any text a dead letter copies (a key, a header, an issue), and how many headers and issues:
 * a decode error echoes what it read (a 600 KB event type, say), so it is bounded like the bytes.
 */
const MAX_TEXT_CHARS = 512
const MAX_MESSAGE_CHARS = 4096
const MAX_HEADERS = 16
const MAX_ISSUES = 16

const cut = (text: string, max = MAX_TEXT_CHARS): string =>
  text.length > max ? `${text.slice(0, max)}…` : text

/**
 * Builds the dead letter for a record that failed to decode.
 *
 * @example
 * ```ts
 * const letter = toDeadLetter(record, { message: "not JSON", issues: [] }, { groupId: "g", memberId: "m" })
 * letter.source.offset // => record.offset
 * ```
 */
export const toDeadLetter = (
  record: BusRecord,
  error: DecodeFailure,
  context: DeliveryContext,
  now: () => Date = () => new Date(),
): DeadLetterRecord => ({
  type: "chorus.DeadLetter",
  version: 1,
  deadLetteredAt: now().toISOString(),
  consumer: { groupId: context.groupId, memberId: context.memberId },
  source: {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
  },
  reason: error.reason ?? "undecodable",
  // Copied field by field: an Error's `message` is not enumerable and would vanish in JSON.
  error: {
    message: cut(error.message, MAX_MESSAGE_CHARS),
    issues: [
      ...error.issues
        .slice(0, MAX_ISSUES)
        .map((issue) => ({ path: cut(issue.path), message: cut(issue.message) })),
      ...(error.issues.length > MAX_ISSUES
        ? [{ path: "", message: `and ${error.issues.length - MAX_ISSUES} more issue(s)` }]
        : []),
    ],
  },
  raw: rawOf(record),
})

const rawOf = (record: BusRecord): DeadLetterRecord["raw"] => {
  const entries = Object.entries(record.headers)
  const headers = Object.fromEntries(
    entries.slice(0, MAX_HEADERS).map(([name, value]) => [cut(name), cut(value)]),
  )
  const key = record.key === null ? null : cut(record.key)
  const value = record.value.subarray(0, MAX_RAW_VALUE_BYTES)
  return {
    key,
    valueBase64: Buffer.from(value).toString("base64"),
    headers,
    size: record.value.length,
    sha256: createHash("sha256").update(record.value).digest("hex"),
    truncated:
      value.length < record.value.length ||
      key !== record.key ||
      entries.length > MAX_HEADERS ||
      entries.some(([name, text]) => name.length > MAX_TEXT_CHARS || text.length > MAX_TEXT_CHARS),
  }
}

/**
 * Publishes a dead letter, keyed by its source so letters from one partition
 * stay in order. Resolves once acknowledged.
 *
 * @example
 * ```ts
 * await publishDeadLetter(bus, record, { message: "bad", issues: [] }, context)
 * ```
 */
export const publishDeadLetter = async (
  bus: BusPort,
  record: BusRecord,
  error: DecodeFailure,
  context: DeliveryContext,
): Promise<void> => {
  const full = toDeadLetter(record, error, context)
  let letter = full
  let value = new TextEncoder().encode(JSON.stringify(letter))
  if (value.length > MAX_DEAD_LETTER_BYTES) {
    // Escaping can still blow text up (a control character takes six bytes in JSON): keep where it came
    // from, its size and digest, and only a short prefix of the rest.
    letter = {
      ...full,
      error: { message: cut(full.error.message), issues: full.error.issues.slice(0, 2) },
      raw: { ...full.raw, valueBase64: full.raw.valueBase64.slice(0, 8192), headers: {}, truncated: true },
    }
    value = new TextEncoder().encode(JSON.stringify(letter))
  }
  await bus.publish([
    {
      topic: DEAD_LETTER_TOPIC,
      key: `${record.topic}/${record.partition}`,
      value,
      headers: {
        "chorus-type": letter.type,
        "chorus-version": String(letter.version),
        "content-type": "application/json",
      },
    },
  ])
  processMetrics()?.deadLettered(record.topic, full.reason)
}

export interface SubscribeDecodingOptions<A> {
  readonly groupId: string
  readonly topics: ReadonlyArray<string>
  readonly fromBeginning?: boolean
  readonly decode: (record: BusRecord) => DecodeResult<A>
  readonly handler: (value: A, record: BusRecord, context: DeliveryContext) => Promise<void>
  /** Told about every dead letter, after it was acknowledged (for logs and metrics). */
  readonly onDeadLetter?: (record: BusRecord, error: DecodeFailure) => void
  /** Called when this member's assignment changes, after the change. */
  readonly onAssignment?: (assignment: ReadonlyArray<TopicPartition>) => void
  /** How the group shares its partitions (`SubscribeOptions.assignment`). */
  readonly assignment?: SubscribeOptions["assignment"]
}

/**
 * A decode that throws refuses the record. Decoding is pure: what threw on these bytes throws on them again, so
 * a redelivery would stall the partition behind one record forever. (`decodeRecord` refuses every input it
 * knows of; this keeps an input nobody thought of from stopping a consumer.)
 */
const decodeOrRefuse = <A>(
  decode: (record: BusRecord) => DecodeResult<A>,
  record: BusRecord,
): DecodeResult<A> => {
  try {
    return decode(record)
  } catch (cause) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
    const message = `decoding the record threw (${why.slice(0, 500)})`
    return { ok: false, error: { message, issues: [{ path: "", message }] } }
  }
}

/**
 * Joins a consumer group, decodes each record, hands decoded values to the
 * handler and dead-letters the rest. Errors thrown by the handler are not
 * decode failures: they propagate to the adapter, which does not commit, so
 * the record is redelivered.
 *
 * @example
 * ```ts
 * const sub = await subscribeDecoding(bus, {
 *   groupId: "proof-builder",
 *   topics: ["chorus.messages.observed"],
 *   decode: decodeEventRecord,
 *   handler: async (event) => { ... },
 * })
 * ```
 */
export const subscribeDecoding = <A>(
  bus: BusPort,
  options: SubscribeDecodingOptions<A>,
): Promise<Subscription> =>
  bus.subscribe({
    groupId: options.groupId,
    topics: options.topics,
    ...(options.fromBeginning === undefined ? {} : { fromBeginning: options.fromBeginning }),
    ...(options.onAssignment === undefined ? {} : { onAssignment: options.onAssignment }),
    ...(options.assignment === undefined ? {} : { assignment: options.assignment }),
    handler: async (record, context) => {
      const authenticated = bus.authenticate?.(record)
      if (authenticated !== undefined && !authenticated.ok) {
        const failure = failureOf(new UnauthenticatedRecordError(authenticated))
        await publishDeadLetter(bus, record, failure, context)
        options.onDeadLetter?.(record, failure)
        return
      }
      const decoded = decodeOrRefuse(options.decode, record)
      if (decoded.ok) {
        await options.handler(decoded.value, record, context)
        return
      }
      await publishDeadLetter(bus, record, decoded.error, context)
      options.onDeadLetter?.(record, decoded.error)
    },
  })
