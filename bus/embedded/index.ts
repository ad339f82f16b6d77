/**
 * The embedded durable log adapter of the bus port: the single-machine
 * default. Segment files with length + CRC framing under a data directory,
 * in-process consumer groups with persisted offsets, Kafka's partitioning.
 * It keeps every record: cleanup policy and retention are metadata only
 * (see `bus.ts`).
 *
 * @module
 */
export { EmbeddedBus, type EmbeddedBusOptions, openEmbeddedBus } from "./bus.ts"
export {
  BusClosedError,
  DataDirLockedError,
  InvalidTopicError,
  NotAssignedError,
  PartitionOutOfRangeError,
  SegmentCorruptError,
  TopicNotFoundError,
} from "./errors.ts"
export { type EmbeddedBusError, EmbeddedBusLive, EmbeddedBusOpenError } from "./layer.ts"
export { type EmbeddedBusLogger, stderrLogger } from "./logger.ts"
