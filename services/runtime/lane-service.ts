/**
 * The runtime around a lane core: a consumer-group member that feeds each
 * input, with the chain reads it needs, to the core and publishes what the
 * core decides.
 *
 * Pipeline, per input record:
 *   1. decode (undecodable records are dead-lettered by `subscribeEvents`);
 *   2. skip it if an input with the same id was already folded (a watcher
 *      that re-read a range republishes identical events);
 *   3. reuse the reads recorded for it, or make them (`observe`) and publish
 *      them on `chorus.lane.reads` before anything else;
 *   4. `decide`, publish the outputs, and only then update the state — so a
 *      failed publish leaves the state untouched and the bus redelivers.
 *
 * Invariants:
 * - State is sharded by partition number. Every lane topic has the same
 *   partition count and key, and both bus adapters assign partition `p` of
 *   every input topic to one member, so one shard holds whole lanes.
 * - A shard is rebuilt from the log the first time one of its records
 *   arrives after an assignment: every input topic's partition is folded up
 *   to the group's committed offset, with the reads recorded for each input,
 *   and the outputs are discarded (they were published the first time). A
 *   restart, or a second member taking over partitions, therefore resumes
 *   with exactly the state the log implies.
 * - One input of a shard is handled at a time, whichever topic it came from.
 * - `decide` may update its state in place (a lane's Merkle tree is too big
 *   to copy per message). If anything fails after `decide` ran — a publish,
 *   say — the shard is discarded, and the redelivered record rebuilds it
 *   from the log, so a half-applied input never survives.
 *
 * @module
 */
import { publishEvents, subscribeEvents } from "../../bus/events/index.ts"
import type { BusPort, BusRecord, Subscription, TopicPartition } from "../../bus/port.ts"
import { type ChorusEvent, type Envelope, makeEnvelope } from "../../schemas/index.ts"
import type { ServiceName, TopicName } from "../../topology/index.ts"
import { type LaneCore, stampOutputs } from "./lane-core.ts"
import { foldLogInputs, type LogInputRange, readLogInputs, readRecordedReads } from "./log-fold.ts"
import type { ServiceLogger } from "./logger.ts"
import { producerOf } from "./producer.ts"
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
  readonly logger: ServiceLogger
  /** Called with every output after it was published (live only, not during rebuilds). */
  readonly onOutput?: (envelope: Envelope) => void
}

export interface LaneService<S> extends RunningService {
  readonly subscription: Subscription
  /** The state of one shard, if this member holds it (for tests and status). */
  shardState(partition: number): S | undefined
}

interface Shard<S> {
  state: S
  readonly seen: Set<string>
  /** Reads recorded for inputs not folded yet, by the input's id. */
  readonly reads: Map<string, Envelope[]>
  queue: Promise<void>
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
    throw new Error(
      `${options.service}: input topics must be co-partitioned, but their partition counts differ (${options.inputs
        .map((t, i) => `${t}=${counts[i]}`)
        .join(", ")})`,
    )
  }
  const shards = new Map<number, Promise<Shard<S>>>()
  const ready = new Map<number, Shard<S>>()

  const rebuild = async (partition: number, first: BusRecord): Promise<Shard<S>> => {
    const reads = await readRecordedReads(bus, {
      service: options.service,
      instance: options.instance,
      partitions: [partition],
    })
    const ranges: LogInputRange[] = []
    for (const [order, topic] of options.inputs.entries()) {
      const committed = await bus.committedOffsets(options.groupId, topic)
      const upTo =
        topic === first.topic ? first.offset : (committed.find((c) => c.partition === partition)?.offset ?? 0)
      if (upTo === 0) continue
      ranges.push({ topic, partition, to: upTo, order })
    }
    const inputs = await readLogInputs(bus, ranges)
    const folded = foldLogInputs(core, inputs, reads)
    const shard: Shard<S> = { state: folded.state, seen: folded.seen, reads, queue: Promise.resolve() }
    logger.info("shard rebuilt from the log", { partition, inputs: inputs.length })
    return shard
  }

  const shardFor = (partition: number, first: BusRecord): Promise<Shard<S>> => {
    let shard = shards.get(partition)
    if (shard === undefined) {
      shard = rebuild(partition, first).then((built) => {
        if (shards.get(partition) === shard) ready.set(partition, built)
        return built
      })
      // A failed rebuild is retried with the redelivered record.
      shard.catch((error: unknown) => {
        logger.error("shard rebuild failed; it is retried with the next delivery", { partition, error })
        shards.delete(partition)
      })
      shards.set(partition, shard)
    }
    return shard
  }

  const discard = (partition: number) => {
    shards.delete(partition)
    ready.delete(partition)
  }

  const handle = async (shard: Shard<S>, partition: number, envelope: Envelope): Promise<void> => {
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
    try {
      decision = core.decide(shard.state, envelope, reads)
      outputs = stampOutputs(producer, envelope, decision.outputs)
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

  const onAssignment = (assignment: ReadonlyArray<TopicPartition>) => {
    const held = new Set(assignment.map((tp) => tp.partition))
    for (const partition of [...shards.keys()]) {
      if (held.has(partition)) continue
      // Another member may now advance this shard; a later assignment rebuilds it from the log.
      discard(partition)
    }
  }

  const subscription = await subscribeEvents(bus, {
    groupId: options.groupId,
    topics: options.inputs,
    fromBeginning: true,
    handler: async (envelope, record) => {
      const shard = await shardFor(record.partition, record)
      const run = shard.queue.then(() => handle(shard, record.partition, envelope))
      shard.queue = run.catch(() => undefined)
      await run
    },
    onDeadLetter: (record, error) =>
      logger.warn("dead-lettered an undecodable record", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        error: error.message,
      }),
    onAssignment,
  })

  let stopping: Promise<void> | undefined
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve
  })
  return {
    name: `${options.service}/${options.instance}`,
    subscription,
    done,
    shardState: (partition) => ready.get(partition)?.state,
    stop: () => {
      stopping ??= subscription.stop().then(resolveDone)
      return stopping
    },
  }
}
