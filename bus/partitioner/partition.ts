/**
 * Which partition a record goes to, as Kafka's default partitioner decides.
 *
 * Invariants:
 * - a keyed record goes to `toPositive(murmur2(utf8(key))) % partitions`, the
 *   rule of Kafka's Java `DefaultPartitioner` and kafkajs's
 *   `Partitioners.DefaultPartitioner`;
 * - a keyless record goes round-robin over the partitions (kafkajs's choice;
 *   Java's sticky partitioner differs, and nothing may rely on either).
 *
 * @module
 */
import { murmur2, toPositive } from "./murmur2.ts"

const encoder = new TextEncoder()

/**
 * The partition Kafka's default partitioner picks for a key.
 *
 * @example
 * ```ts
 * partitionForKey("order-42", 12) // same number kafkajs would pick
 * ```
 */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`)
  }
  return toPositive(murmur2(encoder.encode(key))) % partitions
}

/** Picks partitions for keyless records: one after another, per topic. */
export interface RoundRobin {
  next(topic: string, partitions: number): number
}

/**
 * A round-robin chooser for keyless records, counting per topic.
 *
 * @example
 * ```ts
 * const rr = roundRobin()
 * rr.next("t", 3) // => 0, then 1, 2, 0, …
 * ```
 */
export function roundRobin(): RoundRobin {
  const counters = new Map<string, number>()
  return {
    next(topic, partitions) {
      const n = counters.get(topic) ?? 0
      counters.set(topic, (n + 1) % 0x7fffffff)
      return n % partitions
    },
  }
}
