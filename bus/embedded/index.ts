/**
 * The embedded durable log adapter of the bus port.
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
