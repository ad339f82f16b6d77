/**
 * The embedded durable log: the bus port on local files, owned by one
 * process and shared with others through it.
 *
 * Layout under the data directory:
 * ```
 * LOCK                          pid of the process that owns it (has it open)
 * bus.sock                      the owner's Unix socket for other processes
 * bus.sock.path                 instead, the socket's path, when bus.sock would not fit
 *                               in a socket address (it is then under os.tmpdir())
 * topics/<topic>/topic.json     partitions, cleanup policy, retention
 * topics/<topic>/<n>.log        partition n's segment (length + CRC frames)
 * groups/group-<id>.json        a consumer group's committed offsets
 * ```
 *
 * Invariants (besides those of the port, `../port.ts`):
 * - One process owns a data directory (`lock.ts`) and is the only one that
 *   writes its files. It serves its bus on the socket (`server.ts`) unless
 *   opened with `serve: false`; another process opens the directory with
 *   `openEmbeddedBusShared` and gets a client (`client.ts`) whose calls run
 *   in the owner. A client can do everything but join consumer groups
 *   (`ConsumerGroupsInOwnerError`); if the owner dies, its calls fail with
 *   `BusOwnerGoneError`, and opening again takes the directory over.
 * - Socket files left by a killed owner are stale by definition (the LOCK
 *   says so) and are replaced by the next owner; `close` and `crash` stop
 *   serving and remove them. With `drainClientsMs`, `close` first keeps
 *   answering the clients still connected (refusing new connections and
 *   subscriptions) until they leave or the time is up: the CLI opens its
 *   bus so, because a `chorus messages` that happened to own a stopped
 *   devnet's log must not cut off a `chorus retry` waiting for its answer.
 * - `publish` resolves after every record was written to its segment with
 *   `writeSync` (plus `fdatasync` with `fsync: "always"`): it survives
 *   `kill -9` of this process; with `fsync: "always"` also power loss. A
 *   client's publish resolves only after the owner's did.
 * - Keys go to `toPositive(murmur2(key)) % partitions`, as Kafka's default
 *   partitioner; keyless records go round-robin.
 * - Consumer groups live in the owning process (`group.ts`); their committed
 *   offsets are persisted, so a reopened bus resumes where it stopped.
 * - The log keeps every record: `cleanupPolicy` and `retentionMs` are stored
 *   as metadata only; there is no compaction or deletion. Size a data
 *   directory for everything ever published to it.
 *
 * @module
 */
import { randomUUID } from "node:crypto"
import { mkdirSync } from "node:fs"
import { MemberFencedError } from "../member-fenced.ts"
import { partitionForKey, type RoundRobin, roundRobin } from "../partitioner/index.ts"
import type {
  BusPort,
  BusRecord,
  EnsureTopicsResult,
  OutgoingRecord,
  PartitionOffset,
  PartitionWatermarks,
  ReadRangeOptions,
  RecordPosition,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../port.ts"
import { BusClosedError, PartitionOutOfRangeError, TopicNotFoundError } from "./errors.ts"
import { ConsumerGroup, resolvePosition } from "./group.ts"
import { type DataDirLock, lockDataDir } from "./lock.ts"
import { type EmbeddedBusLogger, stderrLogger } from "./logger.ts"
import { OffsetStore } from "./offset-store.ts"
import { assertRecordShape } from "./record-shape.ts"
import { type AppendRecord, PartitionLog, readPlace } from "./segment.ts"
import { type BusServer, serveBus } from "./server.ts"
import { createTopic, loadTopics, segmentFile, validateTopicName, validateTopicSpec } from "./topics.ts"

export interface EmbeddedBusOptions {
  /** The directory holding the log; created if missing. One open bus per directory. */
  readonly dataDir: string
  /**
   * `"never"` (default): acknowledged writes survive a process crash (`kill -9`).
   * `"always"`: each publish also `fdatasync`s, so they survive power loss too.
   */
  readonly fsync?: "always" | "never"
  /** Where torn-tail repairs and handler failures are reported. Default: stderr. */
  readonly logger?: EmbeddedBusLogger
  /**
   * Serve the bus to other processes on a Unix socket (`openEmbeddedBusShared`
   * connects to it). Default `true`.
   */
  readonly serve?: boolean
  /**
   * On `close()`, how long to keep serving clients that are still connected
   * (other chorus processes mid-operation) before dropping them. Default 0.
   */
  readonly drainClientsMs?: number
}

interface Topic {
  readonly spec: TopicSpec
  readonly logs: ReadonlyArray<PartitionLog>
}

/** The embedded adapter; {@link openEmbeddedBus} makes one. */
export class EmbeddedBus implements BusPort {
  readonly kind = "embedded" as const
  readonly dataDir: string
  private readonly durable: boolean
  private readonly logger: EmbeddedBusLogger
  private readonly lock: DataDirLock
  private readonly offsets: OffsetStore
  private readonly topics = new Map<string, Topic>()
  private readonly groups = new Map<string, ConsumerGroup>()
  private readonly subscriptions = new Set<Subscription>()
  private readonly keyless: RoundRobin = roundRobin()
  private state: "open" | "closing" | "closed" = "open"
  private closing: Promise<void> | undefined
  private server: BusServer | undefined
  private readonly drainClientsMs: number
  private draining = false

  private constructor(options: EmbeddedBusOptions, lock: DataDirLock, offsets: OffsetStore) {
    this.dataDir = options.dataDir
    this.durable = options.fsync === "always"
    this.logger = options.logger ?? stderrLogger
    this.lock = lock
    this.offsets = offsets
    this.drainClientsMs = options.drainClientsMs ?? 0
  }

  /** Opens the data directory and serves it; see {@link openEmbeddedBus}. */
  static async open(options: EmbeddedBusOptions): Promise<EmbeddedBus> {
    const bus = EmbeddedBus.openFiles(options)
    if (options.serve !== false) bus.server = await serveBus(bus, options.dataDir, bus.logger)
    return bus
  }

  private static openFiles(options: EmbeddedBusOptions): EmbeddedBus {
    mkdirSync(options.dataDir, { recursive: true })
    const lock = lockDataDir(options.dataDir)
    try {
      const bus = new EmbeddedBus(
        options,
        lock,
        OffsetStore.open(options.dataDir, options.fsync === "always"),
      )
      try {
        for (const spec of loadTopics(options.dataDir)) bus.openTopic(spec)
      } catch (error) {
        bus.closeLogs()
        throw error
      }
      return bus
    } catch (error) {
      lock.release()
      throw error
    }
  }

  async ensureTopics(specs: ReadonlyArray<TopicSpec>): Promise<EnsureTopicsResult> {
    this.assertOpen("ensure topics")
    for (const spec of specs) validateTopicSpec(spec)
    const created: string[] = []
    const existing: string[] = []
    for (const spec of specs) {
      if (this.topics.has(spec.name)) {
        if (!existing.includes(spec.name) && !created.includes(spec.name)) existing.push(spec.name)
        continue
      }
      createTopic(this.dataDir, spec, this.durable)
      this.openTopic(spec)
      created.push(spec.name)
    }
    return { created, existing }
  }

  async partitions(topic: string): Promise<number> {
    this.assertOpen("read partitions")
    return this.topic(topic).spec.partitions
  }

  async publish(records: ReadonlyArray<OutgoingRecord>): Promise<ReadonlyArray<RecordPosition>> {
    this.assertOpen("publish")
    // Validate the whole batch first, so a bad record fails it before anything is written.
    const now = Date.now()
    const placed = records.map((record) => {
      const { spec, logs } = this.topic(record.topic)
      assertRecordShape(record)
      const partition = this.choosePartition(record, spec.partitions)
      const stored: AppendRecord = {
        timestamp: Math.trunc(record.timestamp ?? now),
        key: record.key,
        value: record.value,
        headers: record.headers ?? {},
      }
      return { log: logs[partition]!, stored }
    })

    const batches = new Map<PartitionLog, { indices: number[]; records: AppendRecord[] }>()
    placed.forEach(({ log, stored }, index) => {
      let batch = batches.get(log)
      if (batch === undefined) {
        batch = { indices: [], records: [] }
        batches.set(log, batch)
      }
      batch.indices.push(index)
      batch.records.push(stored)
    })
    const positions: RecordPosition[] = new Array(records.length)
    for (const [log, batch] of batches) {
      const first = log.append(batch.records)
      batch.indices.forEach((index, i) => {
        positions[index] = { topic: log.topic, partition: log.partition, offset: first + i }
      })
    }
    return positions
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen("subscribe")
    if (this.draining) throw new BusClosedError("subscribe")
    if (options.topics.length === 0) throw new RangeError("subscribe needs at least one topic")
    for (const topic of options.topics) this.topic(topic)
    let group = this.groups.get(options.groupId)
    if (group === undefined) {
      group = new ConsumerGroup(options.groupId, {
        log: (topic, partition) => this.topic(topic).logs[partition]!,
        partitions: (topic) => this.topic(topic).spec.partitions,
        offsets: this.offsets,
        logger: this.logger,
      })
      this.groups.set(options.groupId, group)
    }
    const memberId = `${options.groupId}-${randomUUID()}`
    await group.join({
      memberId,
      topics: [...options.topics],
      fromBeginning: options.fromBeginning ?? true,
      handler: options.handler,
      assignment: options.assignment ?? "spread",
      ...(options.onAssignment === undefined ? {} : { onAssignment: options.onAssignment }),
    })
    if (this.state !== "open" || this.draining) {
      // close() or crash() ran while this member was joining: it missed being stopped.
      await group.leave(memberId)
      throw new BusClosedError("subscribe")
    }
    const joined = group
    let stopped: Promise<void> | undefined
    const subscription: Subscription = {
      groupId: options.groupId,
      memberId,
      assignment: () => joined.assignment(memberId),
      seek: async (topic, partition, position) => {
        this.assertOpen("seek")
        joined.seek(memberId, topic, partition, position)
      },
      fence: async () => {
        // The group lives in this process: what it holds now is the truth, with no generation to lag behind.
        const reason = !joined.has(memberId)
          ? "it left the group"
          : joined.assignment(memberId).length === 0
            ? "the group assigns it no partition (another member holds them)"
            : undefined
        if (reason !== undefined) throw new MemberFencedError(options.groupId, memberId, reason)
      },
      stop: () => {
        stopped ??= joined.leave(memberId).finally(() => this.subscriptions.delete(subscription))
        return stopped
      },
    }
    this.subscriptions.add(subscription)
    return subscription
  }

  read(options: ReadRangeOptions): AsyncIterable<BusRecord> {
    // Bounds are fixed now, at the call, so the range does not follow later writes.
    let plan: ReadonlyArray<{ log: PartitionLog; from: number; to: number }>
    try {
      this.assertOpen("read")
      const { spec, logs } = this.topic(options.topic)
      const partitions = options.partitions ?? logs.map((_, partition) => partition)
      plan = partitions.map((partition) => {
        const log = logs[partition]
        if (log === undefined) throw new PartitionOutOfRangeError(options.topic, partition, spec.partitions)
        return {
          log,
          from: resolvePosition(log, options.from),
          to: resolvePosition(log, options.to ?? "latest"),
        }
      })
    } catch (error) {
      return failing(error)
    }
    return this.iterate(plan)
  }

  async watermarks(topic: string): Promise<ReadonlyArray<PartitionWatermarks>> {
    this.assertOpen("read watermarks")
    return this.topic(topic).logs.map((log) => ({ partition: log.partition, low: log.low, high: log.high }))
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<ReadonlyArray<PartitionOffset>> {
    this.assertOpen("look up offsets")
    return this.topic(topic).logs.map((log) => ({
      partition: log.partition,
      offset: log.offsetForTimestamp(timestamp),
    }))
  }

  async committedOffsets(groupId: string, topic: string): Promise<ReadonlyArray<PartitionOffset>> {
    this.assertOpen("read committed offsets")
    this.topic(topic)
    return this.offsets.committed(groupId, topic)
  }

  /** Stops every subscription gracefully (in-flight records finish and commit), then closes the files. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Clients go first, while the bus still answers their calls (not new subscriptions: they would outlive it).
      this.draining = true
      await this.server?.close(this.drainClientsMs)
      this.state = "closing"
      await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()))
      this.offsets.stop(true)
      this.closeLogs()
      this.lock.release()
      this.state = "closed"
    })()
    return this.closing
  }

  /**
   * For tests: drops the bus as `kill -9` would. Consumers stop at once and
   * commit nothing more (not even a handler in flight that resolves later);
   * commits not yet written are lost; files and the lock are released so the
   * same data directory can be reopened in this process.
   *
   * @example
   * ```ts
   * await bus.crash()
   * const again = await openEmbeddedBus({ dataDir: bus.dataDir })
   * ```
   */
  async crash(): Promise<void> {
    if (this.state === "closed") return
    this.state = "closed"
    this.closing ??= Promise.resolve()
    this.offsets.stop(false)
    for (const group of this.groups.values()) group.abandon()
    this.subscriptions.clear()
    await this.server?.close()
    this.closeLogs()
    this.lock.release()
  }

  private async *iterate(
    plan: ReadonlyArray<{ log: PartitionLog; from: number; to: number }>,
  ): AsyncGenerator<BusRecord> {
    for (const { log, from, to } of plan) {
      const place = readPlace()
      for (let offset = from; offset < to; offset++) {
        this.assertOpen("read")
        yield log.read(offset, place)
      }
    }
  }

  private choosePartition(record: OutgoingRecord, partitions: number): number {
    if (record.partition !== undefined) {
      if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= partitions) {
        throw new PartitionOutOfRangeError(record.topic, record.partition, partitions)
      }
      return record.partition
    }
    if (record.key !== null) return partitionForKey(record.key, partitions)
    return this.keyless.next(record.topic, partitions)
  }

  private openTopic(spec: TopicSpec): void {
    const logs: PartitionLog[] = []
    try {
      for (let partition = 0; partition < spec.partitions; partition++) {
        logs.push(
          PartitionLog.open({
            file: segmentFile(this.dataDir, spec.name, partition),
            topic: spec.name,
            partition,
            fsync: this.durable,
            logger: this.logger,
          }),
        )
      }
    } catch (error) {
      for (const log of logs) log.close()
      throw error
    }
    this.topics.set(spec.name, { spec, logs })
  }

  private topic(name: string): Topic {
    const topic = this.topics.get(name)
    if (topic !== undefined) return topic
    validateTopicName(name)
    throw new TopicNotFoundError(name)
  }

  private closeLogs(): void {
    for (const { logs } of this.topics.values()) for (const log of logs) log.close()
  }

  private assertOpen(operation: string): void {
    if (this.state !== "open") throw new BusClosedError(operation)
  }
}

/**
 * Opens (creating if needed) an embedded bus on a data directory, as its
 * owner, and serves it to other processes (unless `serve: false`). Segments
 * are scanned on open: torn tails are truncated with a warning, corruption in
 * the middle fails with `SegmentCorruptError`. A directory a live process
 * owns fails with `DataDirLockedError`; `openEmbeddedBusShared` opens it as a
 * client instead.
 *
 * @example
 * ```ts
 * const bus = await openEmbeddedBus({ dataDir: ".data/bus" })
 * await bus.ensureTopics([{ name: "chorus.x", partitions: 3, cleanupPolicy: "delete", retentionMs: -1 }])
 * await bus.publish([{ topic: "chorus.x", key: "k", value: new TextEncoder().encode("hi") }])
 * await bus.close()
 * ```
 */
export async function openEmbeddedBus(options: EmbeddedBusOptions): Promise<EmbeddedBus> {
  return EmbeddedBus.open(options)
}

function failing(error: unknown): AsyncIterable<BusRecord> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  }
}
