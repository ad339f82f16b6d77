/**
 * The runtime around a lane core: a consumer-group member that feeds each
 * input, with the chain reads it needs, to the core and publishes what the
 * core decides.
 *
 * Pipeline, per input record:
 *   1. decode (undecodable records are dead-lettered by `subscribeEvents`);
 *   2. skip it if an input with the same id was already folded (a watcher
 *      that re-read a range republishes identical events);
 *   3. reuse the reads this shard made for it (a publish that failed after
 *      them), or make them (`observe`) and publish them on
 *      `chorus.lane.reads` before anything else;
 *   4. `decide`, `seal` the outputs when the service completes them with I/O
 *      (a remote signature), publish them, and only then update the state —
 *      so a failed seal or publish leaves the state untouched and the bus
 *      redelivers.
 *
 * Invariants:
 * - State is sharded by partition number. Every lane topic has the same
 *   partition count and key, and both bus adapters assign partition `p` of
 *   every input topic to one member, so one shard holds whole lanes.
 * - A shard is rebuilt from the log as soon as its partition is assigned
 *   (or, if the adapter delivers before it reports the assignment, when its
 *   first record arrives): every input topic's partition is folded up to
 *   the group's committed offset, with the reads recorded for each input,
 *   and the outputs are discarded (they were published the first time). A
 *   restart, or a second member taking over partitions, therefore resumes
 *   with exactly the state the log implies, even for a partition that gets
 *   no new record. No service folds the log itself.
 * - A record past the position a shard was folded to (the committed offset
 *   moved between the rebuild and the delivery) discards the shard and
 *   rebuilds it up to that record, so no input is ever skipped.
 * - "Caught up" means every assigned partition has its shard and has been
 *   handled up to the end its input partitions had when it was assigned,
 *   and up to every position a service asked for with `expect` (its own
 *   records, when it reads its outputs). Undecodable records count as
 *   handled: they were dead-lettered.
 * - A live input is decided only on reads this shard made. Reads found in
 *   the log for inputs not folded yet (a crash between the read and the
 *   decision, or a record planted by whoever can write the topic) are
 *   dropped, and the input is observed again when it arrives.
 * - One input of a shard is handled at a time, whichever topic it came from.
 * - `decide` may update its state in place (a lane's Merkle tree is too big
 *   to copy per message). If anything fails after `decide` ran — a publish,
 *   say — the shard is discarded, and the redelivered record rebuilds it
 *   from the log, so a half-applied input never survives.
 *
 * @module
 */
import { failureOf, publishDeadLetter } from "../../bus/dead-letter.ts"
import { publishEvents, type ReadError, subscribeEvents } from "../../bus/events/index.ts"
import type { BusPort, BusRecord, RecordPosition, Subscription, TopicPartition } from "../../bus/port.ts"
import { type ChorusEvent, type Envelope, makeEnvelope } from "../../schemas/index.ts"
import type { ServiceName, TopicName } from "../../topology/index.ts"
import { NotCoPartitionedError, ShardDiscardedError } from "./errors.ts"
import { type LaneCore, stampOutputs, stampSourceOf } from "./lane-core.ts"
import { foldLogInputs, type LogInputRange, readLogInputs, readRecordedReads } from "./log-fold.ts"
import type { ServiceLogger } from "./logger.ts"
import { producerOf } from "./producer.ts"
import { RECENT_IDS, type RecentIds } from "./recent-ids.ts"
import type { RunningService } from "./running-service.ts"

export interface LaneServiceOptions<S> {
  readonly bus: BusPort
  readonly service: ServiceName
  /** The logical instance (see `producerOf`); reads are matched to inputs by it. */
  readonly instance: string
  readonly groupId: string
  /** The topics the core consumes; all must have the same partition count. */
  readonly inputs: ReadonlyArray<TopicName>
  readonly core: LaneCore<S>
  /** Makes the chain reads an input needs, as events; called only for inputs with none recorded. */
  readonly observe?: (state: S, input: Envelope) => Promise<ReadonlyArray<ChorusEvent>>
  /**
   * Completes the core's outputs with I/O after the decision, before they are published: an operator's remote
   * signer signs what its core decided to sign. A failure is a failed publish: the shard is discarded and the
   * input handled again.
   */
  readonly seal?: (outputs: ReadonlyArray<ChorusEvent>) => Promise<ReadonlyArray<ChorusEvent>>
  readonly logger: ServiceLogger
  /** Called with every output after it was published (live only, not during rebuilds). */
  readonly onOutput?: (envelope: Envelope) => void
  /** How its group shares the partitions (`SubscribeOptions.assignment`; default `spread`). */
  readonly assignment?: "spread" | "single"
}

export interface LaneService<S> extends RunningService {
  readonly subscription: Subscription
  /** The state of one shard, if this member holds it and has rebuilt it (for tests and status). */
  shardState(partition: number): S | undefined
  /** The states of every shard this member holds, by partition. */
  heldStates(): ReadonlyMap<number, S>
  /**
   * True once every assigned partition has its shard and was handled up to
   * the end it had when assigned, and up to every `expect`ed position.
   */
  caughtUp(): boolean
  /** Asks `caughtUp` to wait until these records (of input topics) are handled too. */
  expect(positions: ReadonlyArray<RecordPosition>): void
  /** The partition count of every input topic. */
  readonly partitionCount: number
  /** How many times this member's assignment changed: a service that acts on all its shards redoes its recovery when this moves. */
  assignmentChanges(): number
}

interface Shard<S> {
  state: S
  /** Ids of the inputs handled last, to skip redeliveries (bounded: `RecentIds`). */
  readonly seen: RecentIds
  /** Reads recorded for inputs not folded yet, by the input's id. */
  readonly reads: Map<string, Envelope[]>
  queue: Promise<void>
  /** Next offset to handle, per input topic: what the shard has folded up to. */
  readonly next: Map<string, number>
  /** Offsets, per input topic, the shard must reach to be caught up. */
  readonly targets: Map<string, number>
  /** False once discarded: an input queued on it is refused (and redelivered to the rebuilt shard). */
  alive: boolean
}

/**
 * Starts a lane service as a consumer-group member.
 *
 * @example
 * ```ts
 * const running = await startLaneService({
 *   bus, service: "proof-builder", instance: "proof-builder", groupId: "chorus.proof-builder",
 *   inputs: [TOPICS.messagesObserved.name], core, observe, logger,
 * })
 * await running.stop()
 * ```
 */
export const startLaneService = async <S>(options: LaneServiceOptions<S>): Promise<LaneService<S>> => {
  const { bus, core, logger } = options
  const producer = producerOf(options.service, options.instance)
  const counts = await Promise.all(options.inputs.map((topic) => bus.partitions(topic)))
  if (new Set(counts).size > 1) {
    throw new NotCoPartitionedError(
      options.service,
      options.inputs.map((topic, i) => ({ topic, partitions: counts[i]! })),
    )
  }
  const shards = new Map<number, Promise<Shard<S>>>()
  const ready = new Map<number, Shard<S>>()
  /** Positions `expect`ed for partitions whose shard is not built yet. */
  const pending = new Map<number, RecordPosition[]>()

  const raise = (targets: Map<string, number>, topic: string, offset: number) => {
    if ((targets.get(topic) ?? 0) < offset) targets.set(topic, offset)
  }

  /**
   * No consumer group reads the reads topic, so its garbage is dead-lettered here, when a rebuild meets it:
   * once per record while the process remembers it (the last `RECENT_IDS` of them; a later rebuild or process
   * may write it again: dead letters are at least once, as they are for every topic). It is never folded.
   * Positions, not event ids, so a plain set: garbage is rare, and the oldest position goes first.
   */
  const deadLettered = new Set<string>()
  const deadLetterReads = async (garbage: ReadonlyArray<{ record: BusRecord; error: ReadError }>) => {
    for (const { record, error } of garbage) {
      const at = `${record.topic}/${record.partition}/${record.offset}`
      if (deadLettered.has(at)) continue
      const failure = failureOf(error)
      await publishDeadLetter(bus, record, failure, {
        groupId: options.groupId,
        memberId: `${options.instance}/rebuild`,
      })
      deadLettered.add(at)
      if (deadLettered.size > RECENT_IDS) deadLettered.delete(deadLettered.values().next().value!)
      logger.warn(
        "dead-lettered a record on the reads topic that is not a Chorus event or no trusted producer wrote",
        {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          error: error.shortMessage,
        },
      )
    }
  }

  /** Folds a partition up to the committed offsets, or up to `first` on its topic. */
  const rebuild = async (partition: number, first?: BusRecord): Promise<Shard<S>> => {
    // Only a service that observes chains recorded reads; the others have none to fold.
    const garbage: Array<{ record: BusRecord; error: ReadError }> = []
    const reads =
      options.observe === undefined
        ? new Map<string, Envelope[]>()
        : await readRecordedReads(bus, {
            service: options.service,
            instance: options.instance,
            partitions: [partition],
            onUndecodable: (record, error) => garbage.push({ record, error }),
          })
    await deadLetterReads(garbage)
    const ranges: LogInputRange[] = []
    const next = new Map<string, number>()
    const targets = new Map<string, number>()
    for (const [order, topic] of options.inputs.entries()) {
      const [committed, watermarks] = await Promise.all([
        bus.committedOffsets(options.groupId, topic),
        bus.watermarks(topic),
      ])
      const marks = watermarks.find((w) => w.partition === partition)
      const upTo =
        first?.topic === topic
          ? first.offset
          : (committed.find((c) => c.partition === partition)?.offset ?? marks?.low ?? 0)
      next.set(topic, upTo)
      raise(targets, topic, marks?.high ?? 0)
      if (upTo > 0) ranges.push({ topic, partition, to: upTo, order })
    }
    const inputs = await readLogInputs(bus, ranges, (record, error) =>
      // The consumer group dead-lettered it when it first met it; a rebuild only says it skipped it.
      logger.warn("skipped an input that is not a Chorus event while rebuilding", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        error: error.shortMessage,
      }),
    )
    const folded = foldLogInputs(core, inputs, reads)
    // What is left are reads for inputs not folded yet. Anyone who can write the reads topic could have
    // planted them (the producer stamp is the writer's claim), so a live input is never decided on one:
    // it is observed again, on this service's own RPC, when it arrives.
    const planted = [...reads.values()].reduce((n, list) => n + list.length, 0)
    if (planted > 0)
      logger.warn("ignored reads recorded for inputs not folded yet", { partition, reads: planted })
    reads.clear()
    logger.info("shard rebuilt from the log", { partition, inputs: inputs.length })
    return {
      state: folded.state,
      seen: folded.seen,
      reads,
      queue: Promise.resolve(),
      next,
      targets,
      alive: true,
    }
  }

  let stopped = false
  const failures = new Map<number, number>()
  const assigned = (partition: number) =>
    subscription?.assignment().some((tp) => tp.partition === partition) ?? true

  const shardFor = (partition: number, first?: BusRecord): Promise<Shard<S>> => {
    let shard = shards.get(partition)
    if (shard === undefined) {
      const building: Promise<Shard<S>> = rebuild(partition, first).then((built) => {
        if (shards.get(partition) !== building) {
          built.alive = false
          return built
        }
        for (const position of pending.get(partition) ?? []) {
          raise(built.targets, position.topic, position.offset + 1)
        }
        pending.delete(partition)
        failures.delete(partition)
        ready.set(partition, built)
        return built
      })
      // A partition that gets no new record would never be rebuilt by a delivery: retry while it is held.
      building.catch((error: unknown) => {
        if (shards.get(partition) !== building) return
        shards.delete(partition)
        const failed = (failures.get(partition) ?? 0) + 1
        failures.set(partition, failed)
        const delayMs = Math.min(30_000, 250 * 2 ** Math.min(failed, 7))
        logger.error("shard rebuild failed; it is retried", { partition, error, retryInMs: delayMs })
        setTimeout(() => {
          if (!stopped && assigned(partition) && !shards.has(partition)) {
            void shardFor(partition).catch(() => undefined)
          }
        }, delayMs).unref()
      })
      shards.set(partition, building)
      shard = building
    }
    return shard
  }

  const discard = (partition: number) => {
    const shard = ready.get(partition)
    if (shard !== undefined) shard.alive = false
    shards.delete(partition)
    ready.delete(partition)
  }

  const handle = async (shard: Shard<S>, partition: number, envelope: Envelope): Promise<void> => {
    if (!shard.alive) throw new ShardDiscardedError(options.service, partition)
    if (shard.seen.has(envelope.id)) return
    let reads = shard.reads.get(envelope.id)
    if (reads === undefined) {
      const events = options.observe === undefined ? [] : await options.observe(shard.state, envelope)
      reads = events.map((event) =>
        makeEnvelope(event, { producer, causationId: envelope.id, time: new Date() }),
      )
      await publishEvents(bus, reads)
      shard.reads.set(envelope.id, reads)
    }
    let decision: ReturnType<typeof core.decide>
    let outputs: ReadonlyArray<Envelope>
    // Observing awaited I/O: the shard may have been discarded meanwhile.
    if (!shard.alive) throw new ShardDiscardedError(options.service, partition)
    try {
      decision = core.decide(shard.state, envelope, reads)
      let events = decision.outputs
      if (options.seal !== undefined && events.length > 0) {
        events = await options.seal(events)
        if (!shard.alive) throw new ShardDiscardedError(options.service, partition)
      }
      outputs = stampOutputs(producer, stampSourceOf(envelope, decision), events)
      await publishEvents(bus, outputs)
    } catch (error) {
      discard(partition)
      throw error
    }
    shard.state = decision.state
    shard.seen.add(envelope.id)
    shard.reads.delete(envelope.id)
    for (const output of outputs) options.onOutput?.(output)
  }

  /**
   * The shard that may take `record`: a live one whose position on the
   * record's topic is not behind the record, rebuilt up to it otherwise (a
   * rebuild with `record` as its first delivery always is).
   */
  const shardTaking = async (record: BusRecord): Promise<Shard<S>> => {
    for (;;) {
      const shard = await shardFor(record.partition, record)
      const at = shard.next.get(record.topic) ?? 0
      if (shard.alive && record.offset <= at) return shard
      if (shard.alive) {
        logger.warn("a record arrived past the shard's position; rebuilding the shard up to it", {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          shardAt: at,
        })
        if (ready.get(record.partition) === shard) discard(record.partition)
      }
    }
  }

  const handled = (shard: Shard<S>, record: BusRecord) => {
    if ((shard.next.get(record.topic) ?? 0) <= record.offset) shard.next.set(record.topic, record.offset + 1)
  }

  let changes = 0
  const onAssignment = (assignment: ReadonlyArray<TopicPartition>) => {
    changes++
    const held = new Set(assignment.map((tp) => tp.partition))
    for (const partition of [...shards.keys()]) {
      // Another member may now advance this shard; a later assignment rebuilds it from the log.
      if (!held.has(partition)) discard(partition)
    }
    for (const partition of [...pending.keys()]) if (!held.has(partition)) pending.delete(partition)
    for (const partition of held) void shardFor(partition).catch(() => undefined)
  }

  let subscription: Subscription | undefined
  subscription = await subscribeEvents(bus, {
    groupId: options.groupId,
    topics: options.inputs,
    fromBeginning: true,
    handler: async (envelope, record) => {
      const shard = await shardTaking(record)
      const run = shard.queue.then(() => handle(shard, record.partition, envelope))
      shard.queue = run.catch(() => undefined)
      await run
      handled(shard, record)
    },
    onDeadLetter: (record, error) => {
      // Dead-lettered is handled: "caught up" must not wait for a record no core will ever see. It
      // goes through the position check and the queue like any input, so it cannot hide a gap.
      void shardTaking(record).then(
        (shard) => {
          shard.queue = shard.queue.then(() => handled(shard, record))
        },
        () => undefined,
      )
      logger.warn("dead-lettered an undecodable record", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        error: error.message,
      })
    },
    onAssignment,
    ...(options.assignment === undefined ? {} : { assignment: options.assignment }),
  })
  // The adapters report the first assignment before `subscribe` resolves or with it; a member
  // that joined with partitions already assigned rebuilds them now.
  onAssignment(subscription.assignment())

  const joined = subscription
  const caughtUp = (): boolean => {
    const partitions = new Set(joined.assignment().map((tp) => tp.partition))
    for (const partition of partitions) {
      const shard = ready.get(partition)
      if (shard === undefined) return false
      for (const [topic, target] of shard.targets) {
        if ((shard.next.get(topic) ?? 0) < target) return false
      }
    }
    return true
  }

  const expect = (positions: ReadonlyArray<RecordPosition>) => {
    for (const position of positions) {
      if (!options.inputs.includes(position.topic as TopicName)) continue
      const shard = ready.get(position.partition)
      if (shard !== undefined) {
        raise(shard.targets, position.topic, position.offset + 1)
      } else {
        const list = pending.get(position.partition) ?? []
        list.push(position)
        pending.set(position.partition, list)
      }
    }
  }

  let stopping: Promise<void> | undefined
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve
  })
  return {
    name: `${options.service}/${options.instance}`,
    subscription: joined,
    done,
    shardState: (partition) => ready.get(partition)?.state,
    heldStates: () =>
      new Map([...ready].sort(([a], [b]) => a - b).map(([partition, shard]) => [partition, shard.state])),
    caughtUp,
    expect,
    partitionCount: counts[0] ?? 0,
    assignmentChanges: () => changes,
    stop: () => {
      stopped = true
      stopping ??= joined.stop().then(resolveDone)
      return stopping
    },
  }
}
