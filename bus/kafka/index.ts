/**
 * The Kafka adapter of the bus port (kafkajs 2.2.4). See `bus.ts` for its
 * invariants, `subscription.ts` for consumer-group semantics, `read.ts` for
 * range reads and `shutdown.ts` for SIGTERM handling.
 *
 * @module
 */
export { type KafkaBusOptions, openKafkaBus, simulateCrash } from "./bus.ts"
export { type DeletedLog, deleteChorusLog } from "./delete-chorus-log.ts"
export {
  KafkaBusError,
  KafkaClosedError,
  KafkaConfigError,
  KafkaNotAssignedError,
  KafkaOperationError,
  KafkaTopicNotFoundError,
  KafkaUnreachableError,
  translateKafkaError,
} from "./errors.ts"
export { KafkaBusLive } from "./layer.ts"
export { type KafkaBusLogger, type KafkaLogLevel, stderrLogger } from "./logger.ts"
export { installShutdownHandlers, type ShutdownOptions } from "./shutdown.ts"
export type { KafkaConsumerTuning } from "./subscription.ts"
