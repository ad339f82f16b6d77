/**
 * An in-process consumer group: members, assignment, rebalancing.
 *
 * Invariants:
 * - Each partition of a subscribed topic is owned by exactly one live member
 *   subscribed to that topic; Kafka's range assignment (members in join
 *   order, contiguous partition ranges, the first members taking one extra),
 *   or, in a group whose members ask for `single`, every partition to the
 *   member that joined first of those still in it (the one that held them).
 * - Every member of a group asks for the same assignment; a joiner asking
 *   the other is refused, as Kafka refuses a group protocol its members do
 *   not share.
 * - Membership changes are applied one at a time. A rebalance first revokes:
 *   each moving partition's worker finishes its record in flight and commits;
 *   only then is the partition started on its new owner, at the committed
 *   offset. So no record is handled by two members at once, and none is
 *   skipped.
 * - A partition with no committed offset starts at the low watermark, or at
 *   the high watermark for a member subscribed with `fromBeginning: false`.
 *
 * @module
 */
import type { LogPosition, RecordHandler, TopicPartition } from "../port.ts"
import { AssignmentMismatchError, NotAssignedError } from "./errors.ts"
import type { EmbeddedBusLogger } from "./logger.ts"
import type { OffsetStore } from "./offset-store.ts"
import type { PartitionLog } from "./segment.ts"
import { PartitionWorker } from "./worker.ts"

export interface MemberSpec {
  readonly memberId: string
  readonly topics: ReadonlyArray<string>
  readonly fromBeginning: boolean
  readonly handler: RecordHandler
  readonly onAssignment?: (assignment: ReadonlyArray<TopicPartition>) => void
  /** `spread` (range assignment) or `single` (every partition to one member). */
  readonly assignment: "spread" | "single"
}

export interface GroupDependencies {
  readonly log: (topic: string, partition: number) => PartitionLog
  readonly partitions: (topic: string) => number
  readonly offsets: OffsetStore
  readonly logger: EmbeddedBusLogger
}

interface Member {
  readonly spec: MemberSpec
  readonly workers: Map<string, { readonly tp: TopicPartition; readonly worker: PartitionWorker }>
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`

export class ConsumerGroup {
  readonly groupId: string
  private readonly deps: GroupDependencies
  private readonly members = new Map<string, Member>()
  private queue: Promise<void> = Promise.resolve()

  constructor(groupId: string, deps: GroupDependencies) {
    this.groupId = groupId
    this.deps = deps
  }

  /** Whether any member is left. */
  get empty(): boolean {
    return this.members.size === 0
  }

  /** Adds a member; resolves once the group has rebalanced with it. */
  join(spec: MemberSpec): Promise<void> {
    return this.serialize(async () => {
      const [other] = this.members.values()
      if (other !== undefined && other.spec.assignment !== spec.assignment)
        throw new AssignmentMismatchError(this.groupId, spec.assignment, other.spec.assignment)
      this.members.set(spec.memberId, { spec, workers: new Map() })
      await this.rebalance()
    })
  }

  /** Removes a member after its records in flight finished and committed; the rest rebalance. */
  leave(memberId: string): Promise<void> {
    return this.serialize(async () => {
      const member = this.members.get(memberId)
      if (member === undefined) return
      const workers = [...member.workers.values()]
      member.workers.clear()
      await Promise.all(workers.map(({ worker }) => worker.stop()))
      this.members.delete(memberId)
      this.deps.offsets.flush()
      await this.rebalance()
    })
  }

  /** A crash: every worker ends at once and commits nothing more. */
  abandon(): void {
    for (const member of this.members.values()) {
      for (const { worker } of member.workers.values()) worker.abandon()
      member.workers.clear()
    }
    this.members.clear()
  }

  /** Whether the member is in the group (it joined and has not left). */
  has(memberId: string): boolean {
    return this.members.has(memberId)
  }

  /** The partitions a member owns, sorted. */
  assignment(memberId: string): ReadonlyArray<TopicPartition> {
    const member = this.members.get(memberId)
    if (member === undefined) return []
    return [...member.workers.values()]
      .map(({ tp }) => tp)
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
  }

  /** Moves the position of a partition the member owns. */
  seek(memberId: string, topic: string, partition: number, position: LogPosition): void {
    const entry = this.members.get(memberId)?.workers.get(keyOf(topic, partition))
    if (entry === undefined) throw new NotAssignedError(topic, partition)
    const log = this.deps.log(topic, partition)
    entry.worker.seek(resolvePosition(log, position))
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => undefined)
    return run
  }

  private desiredAssignment(): Map<string, Map<string, TopicPartition>> {
    const desired = new Map<string, Map<string, TopicPartition>>()
    for (const memberId of this.members.keys()) desired.set(memberId, new Map())
    const topics = new Set([...this.members.values()].flatMap((m) => m.spec.topics))
    for (const topic of [...topics].sort()) {
      const subscribers = [...this.members.values()].filter((m) => m.spec.topics.includes(topic))
      const count = this.deps.partitions(topic)
      if (subscribers[0]?.spec.assignment === "single") {
        // The first of the members still here joined first: it held them, and keeps them.
        const holder = desired.get(subscribers[0].spec.memberId)!
        for (let partition = 0; partition < count; partition++)
          holder.set(keyOf(topic, partition), { topic, partition })
        continue
      }
      const base = Math.floor(count / subscribers.length)
      const extra = count % subscribers.length
      let next = 0
      subscribers.forEach((member, index) => {
        const take = base + (index < extra ? 1 : 0)
        for (let partition = next; partition < next + take; partition++) {
          desired.get(member.spec.memberId)!.set(keyOf(topic, partition), { topic, partition })
        }
        next += take
      })
    }
    return desired
  }

  private async rebalance(): Promise<void> {
    const desired = this.desiredAssignment()
    const changed = new Set<Member>()
    const revoking: Promise<void>[] = []
    for (const member of this.members.values()) {
      const wanted = desired.get(member.spec.memberId)!
      for (const [key, { worker }] of member.workers) {
        if (wanted.has(key)) continue
        member.workers.delete(key)
        changed.add(member)
        revoking.push(worker.stop())
      }
    }
    await Promise.all(revoking)
    if (revoking.length > 0) this.deps.offsets.flush()

    for (const member of this.members.values()) {
      for (const [key, tp] of desired.get(member.spec.memberId)!) {
        if (member.workers.has(key)) continue
        member.workers.set(key, { tp, worker: this.startWorker(member.spec, tp) })
        changed.add(member)
      }
    }
    for (const member of changed) {
      try {
        member.spec.onAssignment?.(this.assignment(member.spec.memberId))
      } catch (error) {
        this.deps.logger.error(
          `group ${this.groupId}: onAssignment of ${member.spec.memberId} threw: ${error}`,
        )
      }
    }
  }

  private startWorker(spec: MemberSpec, tp: TopicPartition): PartitionWorker {
    const log = this.deps.log(tp.topic, tp.partition)
    const committed = this.deps.offsets.get(this.groupId, tp.topic, tp.partition)
    const start = committed ?? (spec.fromBeginning ? log.low : log.high)
    return new PartitionWorker({
      log,
      start,
      handler: spec.handler,
      context: { groupId: this.groupId, memberId: spec.memberId },
      commit: (next) => this.deps.offsets.commit(this.groupId, tp.topic, tp.partition, next),
      logger: this.deps.logger,
    })
  }
}

/**
 * The offset a position points at in a log: offsets are clamped into
 * `[low, high]`; a timestamp is the first record at or after it.
 *
 * @example
 * ```ts
 * resolvePosition(log, { timestamp: Date.parse("2025-01-01") }) // => first offset at or after that time
 * ```
 */
export function resolvePosition(log: PartitionLog, position: LogPosition): number {
  if (position === "earliest") return log.low
  if (position === "latest") return log.high
  if ("offset" in position) {
    if (!Number.isInteger(position.offset))
      throw new RangeError(`offset must be an integer: ${position.offset}`)
    return Math.min(Math.max(position.offset, log.low), log.high)
  }
  if ("timestamp" in position && Number.isFinite(position.timestamp)) {
    return log.offsetForTimestamp(position.timestamp)
  }
  throw new RangeError(`not a log position: ${JSON.stringify(position)}`)
}
