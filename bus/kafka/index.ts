/**
 * The Kafka adapter of the bus port (kafkajs 2.2.4). See `bus.ts` for its
 * invariants, `subscription.ts` for consumer-group semantics, `read.ts` for
 * range reads, `security.ts` for TLS and SASL, `acls.ts` for creating ACLs
 * and `shutdown.ts` for SIGTERM handling.
 *
 * @module
 */
export { type EnsuredAcls, ensureKafkaAcls, type KafkaAclConnection } from "./acls.ts"
export { type KafkaBusOptions, openKafkaBus, simulateCrash } from "./bus.ts"
export { type DeletedLog, deleteChorusLog } from "./delete-chorus-log.ts"
export {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaBusError,
  KafkaClosedError,
  KafkaConfigError,
  KafkaNotAssignedError,
  KafkaOperationError,
  KafkaTlsError,
  KafkaTopicNotFoundError,
  KafkaUnreachableError,
  translateKafkaError,
} from "./errors.ts"
export { KafkaBusLive } from "./layer.ts"
export { type KafkaBusLogger, type KafkaLogLevel, stderrLogger } from "./logger.ts"
export {
  describeKafkaSecurity,
  KAFKA_SECURITY_ENV,
  type KafkaSaslOptions,
  type KafkaSecurity,
  type KafkaTlsOptions,
  kafkaSecurityFromEnv,
  principalOf,
} from "./security.ts"
export { installShutdownHandlers, type ShutdownOptions } from "./shutdown.ts"
export type { KafkaConsumerTuning } from "./subscription.ts"
