/**
 * The bus port: the only way Chorus services talk to each other.
 *
 * Two adapters implement it — Kafka through kafkajs (`bus/kafka/`) and an
 * embedded durable log (`bus/embedded/`) — and one contract suite
 * (`bus/contract/`) holds both to the same semantics:
 *
 * - A publish resolves only once every record is durably acknowledged
 *   (Kafka: acks=all from an idempotent producer; embedded: written to the
 *   segment file). An acknowledged record survives `kill -9`.
 * - Records with the same key land on the same partition (Kafka's murmur2
 *   default partitioner in both adapters), so per-key order is per-partition
 *   order.
 * - A subscription is a consumer-group member. Each partition is handled by
 *   one member at a time, one record after another, in offset order.
 * - A record's offset is committed only after its handler's promise has
 *   resolved, and a handler resolves only after its own outputs were
 *   published. Delivery is therefore at-least-once: a crash before commit
 *   redelivers. Consumers are idempotent through deterministic event ids.
 *   Adapters commit handled offsets in batches (see each adapter), so a crash
 *   redelivers the last stretch handled, never skips a record; `stop` commits
 *   everything handled.
 * - A committed offset is the next offset to read (last processed + 1), as in
 *   Kafka.
 *
 * Everything here is bytes: decoding into events happens one layer up
 * (`bus/events/`), where a record that does not decode is dead-lettered.
 *
 * @module
 */
import { Context } from "effect"
import type { AuthenticationResult } from "./authentication/producer-policy.ts"

/** Header values are UTF-8 strings on this bus; binary data goes in the value. */
export type Headers = Readonly<Record<string, string>>

/** A record to publish. `partition` overrides the key-based choice. */
export interface OutgoingRecord {
  readonly topic: string
  readonly key: string | null
  readonly value: Uint8Array
  readonly headers?: Headers
  readonly partition?: number
  /** Milliseconds since the epoch; the adapter's clock when absent. */
  readonly timestamp?: number
}

/** A record as stored on a topic partition. */
export interface BusRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** Milliseconds since the epoch. */
  readonly timestamp: number
  readonly key: string | null
  readonly value: Uint8Array
  readonly headers: Headers
}

/** Where an acknowledged record landed. */
export interface RecordPosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/**
 * A point in a partition's log: an offset, a time (the first record at or
 * after it), or either end.
 */
export type LogPosition = { readonly offset: number } | { readonly timestamp: number } | "earliest" | "latest"

/** Per-partition watermarks: `low` is the first offset, `high` the next to be written. */
/** A position in one partition of a topic: the next offset to read there. */
export interface PartitionOffset {
  readonly partition: number
  readonly offset: number
}

export interface PartitionWatermarks {
  readonly partition: number
  readonly low: number
  readonly high: number
}

/** What a handler is told besides the record. */
export interface DeliveryContext {
  /** The consumer group the subscription belongs to. */
  readonly groupId: string
  /** The member id within the group (for logs and rebalancing tests). */
  readonly memberId: string
}

/** Handles one record. Resolving means: done, outputs acknowledged, commit it. */
export type RecordHandler = (record: BusRecord, context: DeliveryContext) => Promise<void>

export interface SubscribeOptions {
  readonly groupId: string
  readonly topics: ReadonlyArray<string>
  /** Where a partition with no committed offset starts. Default `"earliest"`. */
  readonly fromBeginning?: boolean
  readonly handler: RecordHandler
  /** Called when this member's assignment changes, after the change. */
  readonly onAssignment?: (assignment: ReadonlyArray<TopicPartition>) => void
  /**
   * How the group shares its partitions. `"spread"` (the default): partition `p` of every topic to the same
   * member, the members taking turns. `"single"`: every partition to one member, the one that held them if it
   * is still there, while the others stand by with none; when it leaves or is expelled, one of them takes all.
   * Every member of a group must ask the same; a member asking the other is refused.
   */
  readonly assignment?: "spread" | "single"
}

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A running consumer-group member. */
export interface Subscription {
  readonly groupId: string
  readonly memberId: string
  /** The partitions this member currently owns. */
  assignment(): ReadonlyArray<TopicPartition>
  /**
   * Moves the group's position on a partition this member owns. The next
   * record handled is the one at the position; the handler in flight, if
   * any, finishes first.
   */
  seek(topic: string, partition: number, position: LogPosition): Promise<void>
  /**
   * Proves this member still holds a non-empty assignment in the group as it is now, not as this member last
   * heard of it: rejects with `MemberFencedError` once the group has moved on without it (it stopped, was
   * expelled after its session lapsed, or a rebalance left it nothing). A single writer checks it before each
   * act the group must not see twice: a member paused past its session, a zombie, finds out here before it
   * acts, since the group gave its partitions to another member first.
   */
  fence(): Promise<void>
  /**
   * Graceful stop: the record in flight on each partition finishes, its
   * offset is committed, and the member leaves the group (its partitions move
   * to the remaining members).
   */
  stop(): Promise<void>
}

/** A topic as the bus needs to know it; `topology/` declares them all. */
export interface TopicSpec {
  readonly name: string
  readonly partitions: number
  readonly cleanupPolicy: "delete" | "compact"
  /** Milliseconds; -1 keeps records forever. */
  readonly retentionMs: number
}

export interface EnsureTopicsResult {
  readonly created: ReadonlyArray<string>
  readonly existing: ReadonlyArray<string>
}

/** A range to read: from a position up to (excluding) another, on every partition or one. */
export interface ReadRangeOptions {
  readonly topic: string
  readonly partitions?: ReadonlyArray<number>
  readonly from: LogPosition
  /** Exclusive. Default `"latest"` as of the call (the range does not follow new writes). */
  readonly to?: LogPosition
}

/**
 * The port itself. Adapters implement it; services get it through the
 * {@link Bus} service.
 */
export interface BusPort {
  /** Which adapter this is, for logs and `--help` output. */
  readonly kind: "embedded" | "kafka"
  /** Creates missing topics; never alters an existing one. */
  ensureTopics(topics: ReadonlyArray<TopicSpec>): Promise<EnsureTopicsResult>
  /** Partition count of an existing topic; fails if it does not exist. */
  partitions(topic: string): Promise<number>
  /** Publishes and resolves once every record is durably acknowledged, positions in input order. */
  publish(records: ReadonlyArray<OutgoingRecord>): Promise<ReadonlyArray<RecordPosition>>
  /** Joins a consumer group; resolves once the member has joined and been assigned. */
  subscribe(options: SubscribeOptions): Promise<Subscription>
  /** Reads a fixed range, partition by partition in offset order, without a consumer group. */
  read(options: ReadRangeOptions): AsyncIterable<BusRecord>
  /** Watermarks of every partition of a topic. */
  watermarks(topic: string): Promise<ReadonlyArray<PartitionWatermarks>>
  /** The offset of the first record at or after `timestamp` per partition (the high watermark if none). */
  offsetsForTimestamp(topic: string, timestamp: number): Promise<ReadonlyArray<PartitionOffset>>
  /** A consumer group's committed offsets (next to read) on a topic; partitions never committed are absent. */
  committedOffsets(groupId: string, topic: string): Promise<ReadonlyArray<PartitionOffset>>
  /** Stops every subscription gracefully, then releases the adapter's resources. */
  close(): Promise<void>
  /**
   * Set only by the authenticating wrapper (`bus/authentication/`): the
   * decode edge (`subscribeDecoding`, `readEvents`) refuses every record it
   * fails, before decoding. The adapters themselves trust nothing and
   * check nothing.
   */
  readonly authenticate?: (record: BusRecord) => AuthenticationResult
}

/**
 * The bus as an Effect service: services depend on `Bus`, and the process
 * wiring provides the embedded or the Kafka adapter as a layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bus } from "./port.ts"
 *
 * const program = Effect.gen(function* () {
 *   const bus = yield* Bus
 *   yield* Effect.promise(() => bus.watermarks("chorus.messages.observed"))
 * })
 * ```
 */
export class Bus extends Context.Service<Bus, BusPort>()("chorus/Bus") {}
