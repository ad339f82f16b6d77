/**
 * Resolving a {@link LogPosition} into a concrete offset on each partition.
 *
 * Invariants:
 * - A resolved offset always lies within the partition's watermarks
 *   `[low, high]`: an offset below the log start means "the first record
 *   still there", one beyond the end means "the end". Kafka would otherwise
 *   answer OFFSET_OUT_OF_RANGE and kafkajs would silently fall back to the
 *   group's reset policy.
 * - A timestamp resolves to the first record at or after it, or to the high
 *   watermark when there is none (kafkajs's `fetchTopicOffsetsByTimestamp`).
 *
 * @module
 */
import type { LogPosition, PartitionOffset, PartitionWatermarks } from "../port.ts"
import { KafkaConfigError } from "./errors.ts"

/** The two lookups positions need; the bus implements them with its admin client. */
export interface OffsetLookups {
  readonly watermarks: (topic: string) => Promise<ReadonlyArray<PartitionWatermarks>>
  readonly offsetsForTimestamp: (topic: string, timestamp: number) => Promise<ReadonlyArray<PartitionOffset>>
}

const validate = (position: LogPosition): void => {
  if (position === "earliest" || position === "latest") return
  if ("offset" in position) {
    if (!Number.isSafeInteger(position.offset) || position.offset < 0) {
      throw new KafkaConfigError(`offset must be a non-negative integer, got ${position.offset}`, {
        position,
      })
    }
    return
  }
  if (!Number.isFinite(position.timestamp)) {
    throw new KafkaConfigError(
      `timestamp must be a finite number of milliseconds, got ${position.timestamp}`,
      {
        position,
      },
    )
  }
}

/**
 * The offset `position` designates on each of `partitions` of `topic`
 * (a map from partition to offset). `watermarks` may be passed when the
 * caller already has them.
 *
 * @example
 * ```ts
 * const offsets = await resolvePositions(lookups, "t", [0, 1], { timestamp: Date.now() - 60_000 })
 * offsets.get(0) // the first offset of partition 0 written in the last minute
 * ```
 */
export const resolvePositions = async (
  lookups: OffsetLookups,
  topic: string,
  partitions: ReadonlyArray<number>,
  position: LogPosition,
  watermarks?: ReadonlyArray<PartitionWatermarks>,
): Promise<ReadonlyMap<number, number>> => {
  validate(position)
  const marks = watermarks ?? (await lookups.watermarks(topic))
  const byPartition = new Map(marks.map((mark) => [mark.partition, mark]))
  const byTime =
    position !== "earliest" && position !== "latest" && "timestamp" in position
      ? new Map(
          (await lookups.offsetsForTimestamp(topic, position.timestamp)).map((entry) => [
            entry.partition,
            entry.offset,
          ]),
        )
      : undefined
  const result = new Map<number, number>()
  for (const partition of partitions) {
    const mark = byPartition.get(partition)
    if (mark === undefined) {
      throw new KafkaConfigError(`partition ${partition} does not exist on topic ${topic}`, {
        topic,
        partition,
        partitions: marks.map((entry) => entry.partition),
      })
    }
    const wanted =
      position === "earliest"
        ? mark.low
        : position === "latest"
          ? mark.high
          : "offset" in position
            ? position.offset
            : (byTime?.get(partition) ?? mark.high)
    result.set(partition, Math.min(Math.max(wanted, mark.low), mark.high))
  }
  return result
}
