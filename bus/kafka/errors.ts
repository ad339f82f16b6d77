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
  /** The SASL principal the client logs in as (`User:<name>`); absent without SASL. */
  readonly principal?: string
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
      "start a local broker with `scripts/kafka-local start`, or point KAFKA_BROKERS (or --brokers) at a running one; " +
        "a listener that needs TLS or SASL drops plaintext clients, so for a secured one set CHORUS_KAFKA_CA and " +
        "CHORUS_KAFKA_SASL_USERNAME/PASSWORD (or bus.kafka in the config)",
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

/**
 * The brokers refused the client's SASL login: a wrong password, an unknown
 * user, or a mechanism the listener does not offer.
 *
 * @example
 * ```ts
 * new KafkaAuthenticationError(["127.0.0.1:9093"], "connect", "User:chorus-submitter", "invalid credentials").code
 * // => "KAFKA_AUTHENTICATION"
 * ```
 */
export class KafkaAuthenticationError extends KafkaBusError {
  override readonly name = "KafkaAuthenticationError"
  constructor(
    brokers: ReadonlyArray<string>,
    operation: string,
    principal: string | undefined,
    reason: string,
    cause?: unknown,
  ) {
    const user = principal?.replace(/^User:/, "")
    super(
      "KAFKA_AUTHENTICATION",
      user === undefined
        ? `Kafka refused this client's SASL login at ${brokers.join(", ")}`
        : `Kafka refused the SASL login of ${user} (SCRAM-SHA-512) at ${brokers.join(", ")}`,
      { brokers, operation, ...(principal === undefined ? {} : { principal }), reason },
      "check the username and password (CHORUS_KAFKA_SASL_USERNAME and CHORUS_KAFKA_SASL_PASSWORD, or bus.kafka.sasl " +
        "in the config) and that the user exists on the cluster as a SCRAM-SHA-512 credential; for the local " +
        "secured broker, `scripts/kafka-local secure-env` prints the admin login",
      cause,
    )
  }
}

/** Node's codes for a certificate the client does not trust. */
const UNTRUSTED_CERTIFICATE = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
])

/**
 * Whether a TLS error code says the broker's certificate was checked and
 * refused (untrusted, expired, for another host): retrying cannot help.
 *
 * @example
 * ```ts
 * isCertificateRefusal("SELF_SIGNED_CERT_IN_CHAIN") // true
 * isCertificateRefusal("ECONNRESET") // false
 * ```
 */
export const isCertificateRefusal = (code: string | undefined): boolean =>
  code !== undefined && (UNTRUSTED_CERTIFICATE.has(code) || code === "ERR_TLS_CERT_ALTNAME_INVALID")

/**
 * A TLS connection to a broker failed: its certificate is not trusted, does
 * not name the host, or the listener does not speak TLS.
 *
 * @example
 * ```ts
 * new KafkaTlsError("127.0.0.1:9093", "connect", "SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain").hint
 * // names CHORUS_KAFKA_CA
 * ```
 */
export class KafkaTlsError extends KafkaBusError {
  override readonly name = "KafkaTlsError"
  constructor(broker: string, operation: string, code: string | undefined, reason: string, cause?: unknown) {
    const untrusted = code !== undefined && UNTRUSTED_CERTIFICATE.has(code)
    const wrongName = code === "ERR_TLS_CERT_ALTNAME_INVALID"
    super(
      "KAFKA_TLS",
      untrusted
        ? `the certificate of the Kafka broker at ${broker} is not trusted (${reason})`
        : wrongName
          ? `the certificate of the Kafka broker at ${broker} does not name that host (${reason})`
          : `TLS to the Kafka broker at ${broker} failed (${reason})`,
      { broker, operation, ...(code === undefined ? {} : { tlsError: code }), reason },
      untrusted
        ? "give the CA that signed the brokers' certificates: CHORUS_KAFKA_CA=<ca.pem> (or bus.kafka.ssl.ca in the " +
            "config); for the local secured broker, `scripts/kafka-local secure-env` prints its CA"
        : wrongName
          ? "address the brokers by a name their certificates hold, or set bus.kafka.ssl.servername to one"
          : "check that this port is a TLS listener (SSL or SASL_SSL) and that the CA is the right one",
      cause,
    )
  }
}

/**
 * The brokers' authorizer refused the principal an operation on a topic, a
 * consumer group or the cluster: its ACLs do not allow it.
 *
 * @example
 * ```ts
 * const error = new KafkaAuthorizationError({ operation: "publish", brokers, topic: "chorus.deliveries", principal: "User:chorus-retry" }, "TOPIC_AUTHORIZATION_FAILED")
 * error.shortMessage // "User:chorus-retry is not allowed to write topic chorus.deliveries"
 * ```
 */
export class KafkaAuthorizationError extends KafkaBusError {
  override readonly name = "KafkaAuthorizationError"
  /** `User:<name>`, or undefined when the client logged in without SASL. */
  readonly principal: string | undefined
  constructor(context: ErrorContext, kafkaError: string, cause?: unknown) {
    const who = context.principal ?? "this client (no SASL login: the broker sees User:ANONYMOUS)"
    const what = deniedAction(context, kafkaError)
    super(
      "KAFKA_NOT_AUTHORIZED",
      `${who} is not allowed to ${what}`,
      {
        operation: context.operation,
        brokers: context.brokers,
        ...(context.principal === undefined ? {} : { principal: context.principal }),
        ...(context.topic === undefined ? {} : { topic: context.topic }),
        ...(context.groupId === undefined ? {} : { groupId: context.groupId }),
        kafkaError,
      },
      "each Chorus principal may write only what its service writes, read only what it consumes or reads, and use " +
        "only its own consumer group: run it as the principal that owns this, or grant the ACLs with " +
        "`chorus topics create --acls` (docs/security.md lists them)",
      cause,
    )
    this.principal = context.principal
  }
}

/** What the principal tried, in ACL terms, for the error's message. */
const deniedAction = (context: ErrorContext, kafkaError: string): string => {
  const topic = context.topic === undefined ? "a topic" : `topic ${context.topic}`
  if (kafkaError === "GROUP_AUTHORIZATION_FAILED") {
    return `use consumer group ${context.groupId ?? "(unknown)"}${context.topic === undefined ? "" : ` (to read ${context.topic})`}`
  }
  if (kafkaError === "CLUSTER_AUTHORIZATION_FAILED") {
    switch (context.operation) {
      case "publish":
        return `write ${context.topic === undefined ? "" : `${topic} `}(it may write no topic, which its idempotent producer needs)`
      case "ensureTopics":
        return "create topics"
      case "ensureAcls":
        return "create ACLs (ALTER on the cluster)"
      default:
        return `do ${context.operation} on the cluster`
    }
  }
  switch (context.operation) {
    case "publish":
      return `write ${topic}`
    case "subscribe":
    case "read":
      return `read ${topic}`
    case "ensureTopics":
      return `create ${topic}`
    default:
      return `describe ${topic} (${context.operation})`
  }
}

interface KafkaJSLike {
  readonly name?: unknown
  readonly message?: unknown
  readonly type?: unknown
  readonly retriable?: unknown
  readonly cause?: unknown
  readonly errors?: unknown
  readonly code?: unknown
  readonly broker?: unknown
}

const asRecord = (value: unknown): KafkaJSLike | undefined =>
  typeof value === "object" && value !== null ? (value as KafkaJSLike) : undefined

/**
 * Follows kafkajs's `cause` chain to the innermost error; an aggregate
 * (`KafkaJSAggregateError`, one error per topic of a request) stands for its
 * first error.
 */
export const rootCause = (error: unknown): unknown => {
  let current = error
  for (let depth = 0; depth < 10; depth += 1) {
    const record = asRecord(current)
    const errors = record?.errors
    const next =
      record?.cause ??
      (Array.isArray(errors) && errors.length > 0 && record?.type === undefined ? errors[0] : undefined)
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
const BROKER_ERRORS: Readonly<Record<string, { readonly reason: string; readonly hint: string }>> = {
  INVALID_REPLICATION_FACTOR: {
    reason: "the replication factor is larger than the number of brokers",
    hint: "run against a cluster with enough brokers, or lower the replication factor",
  },
  SECURITY_DISABLED: {
    reason: "the brokers have no authorizer, so they keep no ACLs",
    hint: "set authorizer.class.name (org.apache.kafka.metadata.authorizer.StandardAuthorizer on KRaft) on the brokers, or leave out --acls",
  },
}

const AUTHORIZATION_FAILED = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
])

/** The authentication failures kafkajs reports (a SASL error, or the broker's error code). */
const AUTHENTICATION_FAILED = new Set([
  "SASL_AUTHENTICATION_FAILED",
  "UNSUPPORTED_SASL_MECHANISM",
  "ILLEGAL_SASL_STATE",
])

/** A TLS failure in a connection error: Node's code, or its wording when the code was lost. */
const tlsFailureOf = (root: KafkaJSLike | undefined): { code?: string; reason: string } | undefined => {
  if (root === undefined) return undefined
  const code = typeof root.code === "string" ? root.code : undefined
  const message = typeof root.message === "string" ? root.message : ""
  if (
    (code !== undefined &&
      (UNTRUSTED_CERTIFICATE.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_"))) ||
    /certificate|before secure TLS connection|SSL routines|wrong version number/i.test(message)
  ) {
    return { ...(code === undefined ? {} : { code }), reason: message.replace(/^Connection error: /, "") }
  }
  return undefined
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
    ...(context.principal === undefined ? {} : { principal: context.principal }),
  }

  if (name === "KafkaJSSASLAuthenticationError" || (type !== undefined && AUTHENTICATION_FAILED.has(type))) {
    return new KafkaAuthenticationError(
      context.brokers,
      context.operation,
      context.principal,
      describe(root),
      error,
    )
  }
  if (type !== undefined && AUTHORIZATION_FAILED.has(type)) {
    return new KafkaAuthorizationError(context, type, error)
  }
  const tls = tlsFailureOf(rootRecord)
  if (tls !== undefined) {
    const broker = typeof rootRecord?.broker === "string" ? rootRecord.broker : context.brokers.join(", ")
    return new KafkaTlsError(broker, context.operation, tls.code, tls.reason, error)
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
