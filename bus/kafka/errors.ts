/**
 * Errors of the Kafka adapter, and the translation of kafkajs errors into them.
 *
 * Invariants:
 * - Every error the adapter throws is a {@link KafkaBusError}, a
 *   `ChorusError`: a short message, structured `details`, a `hint` saying
 *   what to do next, a stable `code`, and the original kafkajs error as
 *   `cause`. Nothing kafkajs-shaped leaks through the port.
 * - Translation looks through kafkajs's wrappers (`KafkaJSNumberOfRetriesExceeded`,
 *   `KafkaJSNonRetriableError`) to the root cause, because the wrapper names
 *   say nothing about what went wrong.
 *
 * @module
 */
import { ChorusError } from "../../errors/index.ts"

/** Where an error happened, for its details. */
export interface ErrorContext {
  /** The port operation, e.g. `publish`, `subscribe`, `ensureTopics`. */
  readonly operation: string
  readonly brokers: ReadonlyArray<string>
  readonly topic?: string
  readonly groupId?: string
}

/**
 * Base class of every error the Kafka adapter throws: a `ChorusError` with a
 * stable `code` for programs.
 *
 * @example
 * ```ts
 * try {
 *   await openKafkaBus({ brokers: ["127.0.0.1:9092"] })
 * } catch (error) {
 *   if (error instanceof KafkaBusError) console.error(error.message) // the short message, then the hint
 * }
 * ```
 */
export class KafkaBusError extends ChorusError {
  override readonly name: string = "KafkaBusError"
  /** A stable code for programs; the message is for people. */
  readonly code: string
  declare readonly hint: string

  constructor(
    code: string,
    shortMessage: string,
    details: Readonly<Record<string, unknown>>,
    hint: string,
    cause?: unknown,
  ) {
    super(shortMessage, { details, hint, cause })
    this.code = code
  }
}

/**
 * No broker answered.
 *
 * @example
 * ```ts
 * const error = new KafkaUnreachableError(["127.0.0.1:9092"], "publish")
 * error.hint // names scripts/kafka-local and KAFKA_BROKERS
 * ```
 */
export class KafkaUnreachableError extends KafkaBusError {
  override readonly name = "KafkaUnreachableError"
  constructor(brokers: ReadonlyArray<string>, operation: string, reason?: string, cause?: unknown) {
    super(
      "KAFKA_UNREACHABLE",
      `no Kafka broker answered at ${brokers.join(", ")}${reason === undefined ? "" : ` (${reason})`}`,
      { brokers, operation, ...(reason === undefined ? {} : { reason }) },
      "start a local broker with `scripts/kafka-local start`, or point KAFKA_BROKERS (or --brokers) at a running one",
      cause,
    )
  }
}

/**
 * A topic the operation needs does not exist.
 *
 * @example
 * ```ts
 * new KafkaTopicNotFoundError("chorus.messages.observed", "publish").hint
 * // => "create the topics with `chorus topics create --brokers …`"
 * ```
 */
export class KafkaTopicNotFoundError extends KafkaBusError {
  override readonly name = "KafkaTopicNotFoundError"
  constructor(topic: string, operation: string, cause?: unknown) {
    super(
      "KAFKA_TOPIC_NOT_FOUND",
      `topic ${topic} does not exist`,
      { topic, operation },
      "create the topics with `chorus topics create --brokers …`",
      cause,
    )
  }
}

/**
 * The options or arguments given to the adapter are invalid.
 *
 * @example
 * ```ts
 * new KafkaConfigError("brokers must not be empty", { brokers: [] })
 * ```
 */
export class KafkaConfigError extends KafkaBusError {
  override readonly name = "KafkaConfigError"
  constructor(message: string, details: Readonly<Record<string, unknown>>, hint?: string) {
    super("KAFKA_CONFIG", message, details, hint ?? "fix the value and try again")
  }
}

/**
 * `seek` on a partition this member does not own.
 *
 * @example
 * ```ts
 * new KafkaNotAssignedError("t", 3, "g").code // => "KAFKA_NOT_ASSIGNED"
 * ```
 */
export class KafkaNotAssignedError extends KafkaBusError {
  override readonly name = "KafkaNotAssignedError"
  constructor(topic: string, partition: number, groupId: string) {
    super(
      "KAFKA_NOT_ASSIGNED",
      `partition ${topic}/${partition} is not assigned to this member of ${groupId}`,
      { topic, partition, groupId },
      "seek only partitions in `subscription.assignment()`; the owner of the partition must seek it",
    )
  }
}

/**
 * The bus or subscription was closed before or during the operation.
 *
 * @example
 * ```ts
 * new KafkaClosedError("publish").code // => "KAFKA_CLOSED"
 * ```
 */
export class KafkaClosedError extends KafkaBusError {
  override readonly name = "KafkaClosedError"
  constructor(operation: string) {
    super(
      "KAFKA_CLOSED",
      `the Kafka bus is closed (${operation})`,
      { operation },
      "open a new bus; a closed one stays closed",
    )
  }
}

/**
 * Any other failure of a Kafka operation; `details.kafkaError` names the
 * broker's error code where there is one.
 *
 * @example
 * ```ts
 * new KafkaOperationError("publish", "NOT_ENOUGH_REPLICAS", { topic: "t" }).code // => "KAFKA_OPERATION"
 * ```
 */
export class KafkaOperationError extends KafkaBusError {
  override readonly name = "KafkaOperationError"
  constructor(
    operation: string,
    reason: string,
    details: Readonly<Record<string, unknown>>,
    hint?: string,
    cause?: unknown,
  ) {
    super(
      "KAFKA_OPERATION",
      `${operation} failed: ${reason}`,
      { operation, ...details },
      hint ?? "check the broker log (`scripts/kafka-local logs`); retry if the error is transient",
      cause,
    )
  }
}

interface KafkaJSLike {
  readonly name?: unknown
  readonly message?: unknown
  readonly type?: unknown
  readonly retriable?: unknown
  readonly cause?: unknown
  readonly errors?: unknown
}

const asRecord = (value: unknown): KafkaJSLike | undefined =>
  typeof value === "object" && value !== null ? (value as KafkaJSLike) : undefined

/** Follows kafkajs's `cause` chain to the innermost error. */
export const rootCause = (error: unknown): unknown => {
  let current = error
  for (let depth = 0; depth < 10; depth += 1) {
    const next = asRecord(current)?.cause
    if (next === undefined || next === null || next === current) return current
    current = next
  }
  return current
}

const CONNECTION_ERRORS = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSRequestTimeoutError",
])

const UNKNOWN_TOPIC = new Set(["UNKNOWN_TOPIC_OR_PARTITION", "UNKNOWN_TOPIC_ID"])

/** Broker error codes whose fix is known: what went wrong and what to do, instead of kafkajs's wording. */
const NOT_AUTHORIZED = {
  reason: "not authorized",
  hint: "grant this client the ACLs it needs on the topic and group",
}
const BROKER_ERRORS: Readonly<Record<string, { readonly reason: string; readonly hint: string }>> = {
  INVALID_REPLICATION_FACTOR: {
    reason: "the replication factor is larger than the number of brokers",
    hint: "run against a cluster with enough brokers, or lower the replication factor",
  },
  GROUP_AUTHORIZATION_FAILED: NOT_AUTHORIZED,
  TOPIC_AUTHORIZATION_FAILED: NOT_AUTHORIZED,
}

const describe = (error: unknown): string => {
  const record = asRecord(error)
  if (record === undefined) return String(error)
  return typeof record.message === "string" ? record.message : String(error)
}

/**
 * Turns whatever kafkajs threw into a {@link KafkaBusError}; errors that
 * already are one pass through unchanged.
 *
 * @example
 * ```ts
 * try {
 *   await admin.fetchTopicOffsets(topic)
 * } catch (error) {
 *   throw translateKafkaError(error, { operation: "watermarks", brokers, topic })
 * }
 * ```
 */
export const translateKafkaError = (error: unknown, context: ErrorContext): KafkaBusError => {
  if (error instanceof KafkaBusError) return error
  const root = rootCause(error)
  const rootRecord = asRecord(root)
  const name = typeof rootRecord?.name === "string" ? rootRecord.name : undefined
  const type = typeof rootRecord?.type === "string" ? rootRecord.type : undefined
  const where = {
    brokers: context.brokers,
    ...(context.topic === undefined ? {} : { topic: context.topic }),
    ...(context.groupId === undefined ? {} : { groupId: context.groupId }),
  }

  if (
    (name !== undefined && CONNECTION_ERRORS.has(name)) ||
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH/.test(describe(root))
  ) {
    return new KafkaUnreachableError(context.brokers, context.operation, describe(root), error)
  }
  if (type !== undefined && UNKNOWN_TOPIC.has(type) && context.topic !== undefined) {
    return new KafkaTopicNotFoundError(context.topic, context.operation, error)
  }
  if (name === "KafkaJSTopicMetadataNotLoaded" && context.topic !== undefined) {
    return new KafkaTopicNotFoundError(context.topic, context.operation, error)
  }
  const known = type !== undefined && Object.hasOwn(BROKER_ERRORS, type) ? BROKER_ERRORS[type] : undefined
  if (known !== undefined) {
    return new KafkaOperationError(
      context.operation,
      known.reason,
      { ...where, kafkaError: type },
      known.hint,
      error,
    )
  }
  return new KafkaOperationError(
    context.operation,
    describe(root),
    {
      ...where,
      ...(type === undefined ? {} : { kafkaError: type }),
      ...(name === undefined ? {} : { kafkaName: name }),
    },
    undefined,
    error,
  )
}
