/**
 * The embedded durable log adapter of the bus port: the single-machine
 * default. Segment files with length + CRC framing under a data directory,
 * in-process consumer groups with persisted offsets, Kafka's partitioning.
 * One process owns a data directory and serves it on a Unix socket; others
 * open it as clients (`openEmbeddedBusShared`) for everything but consumer
 * groups. It keeps every record: cleanup policy and retention are metadata
 * only (see `bus.ts`).
 *
 * @module
 */
export { EmbeddedBus, type EmbeddedBusOptions, openEmbeddedBus } from "./bus.ts"
export { EmbeddedBusClient } from "./client.ts"
export {
  BusClosedError,
  BusOwnerGoneError,
  BusOwnerUnreachableError,
  BusProtocolError,
  ConsumerGroupsInOwnerError,
  DataDirLockedError,
  InvalidTopicError,
  NotAssignedError,
  PartitionOutOfRangeError,
  RemoteBusError,
  SegmentCorruptError,
  TopicNotFoundError,
} from "./errors.ts"
export { type EmbeddedBusError, EmbeddedBusLive, EmbeddedBusOpenError } from "./layer.ts"
export { type EmbeddedBusLogger, stderrLogger } from "./logger.ts"
export { openEmbeddedBusShared, type SharedEmbeddedBusOptions } from "./shared.ts"
