/**
 * Kafka-compatible partitioning: murmur2 and the default partitioner's rule.
 *
 * @module
 */
export { murmur2, toPositive } from "./murmur2.ts"
export { partitionForKey, type RoundRobin, roundRobin } from "./partition.ts"
