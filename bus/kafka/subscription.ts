/**
 * One consumer-group member: a kafkajs consumer driving a {@link RecordHandler}.
 *
 * Invariants:
 * - One kafkajs consumer per subscription, `autoCommit: false`, fed batch
 *   by batch (`eachBatch`, `eachBatchAutoResolve: false`). A record's
 *   offset + 1 becomes committable only after its handler resolved (and a
 *   handler resolves only after its outputs were acknowledged); it is then
 *   committed with the others in one `commitOffsets` for every partition,
 *   every `commitEveryRecords` records or `commitIntervalMs`, whichever
 *   comes first, and always before a rebalance gives partitions away
 *   (kafkajs's heartbeat reports it between records) and on `stop`.
 *   Nothing else ever commits, except `seek`, which commits the position it
 *   moved to. A commit that fails is retried with the next one while the
 *   partition is still this member's; one whose partition moved is dropped,
 *   and the new owner redelivers from the last committed offset
 *   (at-least-once, as before: a per-record commit costs a round trip each,
 *   which held the adapter at 1.5% of the engine's speed).
 * - Per partition, one record at a time in offset order: kafkajs never runs
 *   two batches of one partition at once, the records of a batch are handled
 *   one after another, and a record is resolved (kafkajs's fetch position)
 *   only once handled. `partitionsConsumedConcurrently` (default 1) only
 *   lets different partitions overlap.
 * - A handler that throws (or a commit that fails) is not committed: the
 *   adapter seeks the partition back to that record and pauses it for a
 *   backoff (exponential, capped), so the record is redelivered and kafkajs
 *   never skips it. kafkajs's own reaction to a throwing `eachMessage`
 *   (retry the whole fetch loop, then crash and restart the consumer, which
 *   rebalances the whole group) is never triggered.
 * - While a handler runs, the member keeps heartbeating: kafkajs only
 *   heartbeats between records, and a handler longer than the session
 *   timeout would otherwise get the member thrown out of the group.
 * - `stop()` pauses every partition, lets each in-flight handler finish and
 *   commit (bounded by `stopTimeoutMs`), then disconnects, which leaves the
 *   group so its partitions move to the remaining members. kafkajs's
 *   `consumer.stop()` cannot be used for this: once it has run, kafkajs
 *   silently drops commits.
 * - `crash()` (for tests and drills) is the opposite: nothing more is
 *   handled or committed — not even a handler in flight that resolves later
 *   — and the member never says goodbye; the bus has already cut its
 *   sockets, so the group notices only by the session timeout.
 *
 * @module
 */

import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs"
import { MemberFencedError } from "../member-fenced.ts"
import type { LogPosition, RecordHandler, SubscribeOptions, Subscription, TopicPartition } from "../port.ts"
import { CoPartitionedAssigner } from "./co-partitioned-assigner.ts"
import {
  KafkaAuthorizationError,
  KafkaBusError,
  KafkaClosedError,
  KafkaNotAssignedError,
  translateKafkaError,
} from "./errors.ts"
import type { KafkaBusLogger } from "./logger.ts"
import { toBusRecord } from "./records.ts"
import { singleMemberAssigner } from "./single-member-assigner.ts"

/** Tuning of the consumers the adapter creates. */
export interface KafkaConsumerTuning {
  /** kafkajs default 30000. */
  readonly sessionTimeoutMs?: number
  /** kafkajs default 60000. */
  readonly rebalanceTimeoutMs?: number
  /** kafkajs default 3000; also the pace of heartbeats while a handler runs. */
  readonly heartbeatIntervalMs?: number
  /**
   * How long a fetch waits for data. It also bounds how late a member learns
   * of a rebalance, since kafkajs heartbeats between fetches. Default 1000.
   */
  readonly maxWaitTimeMs?: number
  /** Partitions whose handlers may run at the same time in one member. Default 1. */
  readonly partitionsConsumedConcurrently?: number
  /** First redelivery delay after a handler failure; doubles up to `retryMaxMs`. Default 100. */
  readonly retryInitialMs?: number
  /** Default 5000. */
  readonly retryMaxMs?: number
  /** How long `subscribe` waits for the member to join. Default 60000. */
  readonly joinTimeoutMs?: number
  /** How long `stop` waits for in-flight handlers before leaving anyway. Default 30000. */
  readonly stopTimeoutMs?: number
  /** Handled records after which their offsets are committed, across partitions. Default 1000. */
  readonly commitEveryRecords?: number
  /** Longest a handled record's offset waits to be committed. Default 200. */
  readonly commitIntervalMs?: number
}

/** What a subscription needs from the bus that owns it. */
export interface SubscriptionDeps {
  readonly kafka: Kafka
  readonly brokers: ReadonlyArray<string>
  /** The SASL principal, for errors. */
  readonly principal?: string
  /**
   * The broker's error behind a group coordinator kafkajs could not find
   * (kafkajs drops it: a group the principal may not use looks like a
   * missing coordinator), e.g. `GROUP_AUTHORIZATION_FAILED`.
   */
  readonly diagnoseGroup?: (groupId: string) => Promise<string | undefined>
  readonly logger: KafkaBusLogger
  readonly tuning: KafkaConsumerTuning
  readonly resolvePosition: (topic: string, partition: number, position: LogPosition) => Promise<number>
  /** Called once the subscription stopped, so the bus forgets it. */
  readonly onStopped: (subscription: KafkaSubscription) => void
  /**
   * What the group coordinator says of a member now: the group's state, and whether it lists the member with
   * at least one partition (`Subscription.fence`).
   */
  readonly describeMember: (groupId: string, memberId: string) => Promise<{ state: string; holds: boolean }>
}

interface PartitionState {
  /** Settles when the batch in hand stops handling records (after the record in flight). */
  inFlight: Promise<void> | undefined
  failures: number
  /** The backoff before a failed record is redelivered: the partition is paused until it ends. */
  retry: { readonly timer: ReturnType<typeof setTimeout>; readonly resume: () => void } | undefined
  /** Seeks waiting for the in-flight handler; records arriving meanwhile are held back. */
  seeksPending: number
  /** The first record held back during a seek, to restore it if the seek fails. */
  heldBack: string | undefined
  resumeAfterSeek: (() => void) | undefined
}

const withTimeout = async <A>(promise: Promise<A>, ms: number): Promise<A | "timeout"> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

const flatten = (assignment: Readonly<Record<string, ReadonlyArray<number>>>): TopicPartition[] =>
  Object.entries(assignment)
    .flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })))
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))

/**
 * A running member. Created by {@link startSubscription}; the bus hands it
 * out as a port {@link Subscription}.
 */
export class KafkaSubscription implements Subscription {
  readonly groupId: string
  #memberId = ""
  #assignment: ReadonlyArray<TopicPartition> = []
  readonly #consumer: Consumer
  readonly #deps: SubscriptionDeps
  readonly #topics: ReadonlyArray<string>
  readonly #handler: RecordHandler
  readonly #onAssignment: SubscribeOptions["onAssignment"]
  readonly #partitions = new Map<string, PartitionState>()
  #stopping = false
  #stopped: Promise<void> | undefined
  #crashed = false
  /** Resolves the batches in hand when the member crashes. */
  readonly #abandons = new Set<(outcome: "crashed") => void>()
  /** Handled offsets (next to read) not committed yet, by partition. */
  readonly #pending = new Map<
    string,
    { readonly topic: string; readonly partition: number; readonly offset: string }
  >()
  #handledSinceCommit = 0
  /** Set once stop made its last commit. */
  #left = false
  #commitTimer: ReturnType<typeof setTimeout> | undefined
  /** The commit in flight (commits are chained). */
  #committing: Promise<void> = Promise.resolve()

  constructor(consumer: Consumer, options: SubscribeOptions, deps: SubscriptionDeps) {
    this.groupId = options.groupId
    this.#consumer = consumer
    this.#deps = deps
    this.#topics = [...options.topics]
    this.#handler = options.handler
    this.#onAssignment = options.onAssignment
  }

  get memberId(): string {
    return this.#memberId
  }

  assignment(): ReadonlyArray<TopicPartition> {
    return this.#assignment
  }

  /** Records the member's new identity and assignment (from a GROUP_JOIN). */
  joined(memberId: string, assignment: Readonly<Record<string, ReadonlyArray<number>>>): void {
    const first = this.#memberId === ""
    const next = flatten(assignment)
    const changed = JSON.stringify(next) !== JSON.stringify(this.#assignment)
    this.#memberId = memberId
    this.#assignment = next
    // Offsets handled on partitions that moved are the new owner's to redo:
    // committing them now, under the new generation, could move its position.
    for (const [key, entry] of this.#pending) {
      if (!next.some((a) => a.topic === entry.topic && a.partition === entry.partition))
        this.#pending.delete(key)
    }
    // A rejoin that hands back the same partitions is not a change.
    if (this.#stopping || !(first || changed)) return
    try {
      this.#onAssignment?.(this.#assignment)
    } catch (error) {
      this.#deps.logger.error("onAssignment threw; ignored", { groupId: this.groupId, error: String(error) })
    }
  }

  #state(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`
    let state = this.#partitions.get(key)
    if (state === undefined) {
      state = {
        inFlight: undefined,
        failures: 0,
        retry: undefined,
        seeksPending: 0,
        heldBack: undefined,
        resumeAfterSeek: undefined,
      }
      this.#partitions.set(key, state)
    }
    return state
  }

  /** The kafkajs `eachBatch` callback: the batch's records, one after another, until one fails. */
  readonly eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload
    const { topic, partition } = batch
    const state = this.#state(topic, partition)
    // A rebalance noticed by the heartbeat that runs during a long handler.
    let rebalance: unknown
    const keepAlive = setInterval(() => {
      payload.heartbeat().catch((error: unknown) => {
        rebalance ??= error
      })
    }, this.#deps.tuning.heartbeatIntervalMs ?? 3000)
    // One promise for the batch: a seek or a stop waits for it, and the loop
    // below ends after the record in hand when either is asked for.
    let settle: () => void = () => {}
    state.inFlight = new Promise<void>((resolve) => {
      settle = resolve
    })
    const interval = this.#deps.tuning.heartbeatIntervalMs ?? 3000
    let lastBeat = Date.now()
    // A crash abandons the handler in flight. One per batch, released with
    // it: racing every record against one promise that lives as long as the
    // member would keep a reaction per record until the member ends.
    const abandoned = Promise.withResolvers<"crashed">()
    this.#abandons.add(abandoned.resolve)
    // Handled records are marked (kafkajs's fetch position, and committable)
    // in runs, not one by one: at the commit count, every commit interval,
    // before a rebalance's commit, and when the batch ends however it ends.
    const commitEvery = this.#deps.tuning.commitEveryRecords ?? 1000
    const commitIntervalMs = this.#deps.tuning.commitIntervalMs ?? 200
    let handled: string | undefined
    let unmarked = 0
    let lastMark = lastBeat
    const mark = () => {
      if (handled === undefined) return
      const offset = handled
      const records = unmarked
      handled = undefined
      unmarked = 0
      // A rebalance that moved the partition away: its new owner redoes these records from the last commit.
      if (!this.#assignment.some((a) => a.topic === topic && a.partition === partition)) return
      try {
        payload.resolveOffset(offset)
      } catch {
        // A rebalance that kept the partition here rebuilt kafkajs's offsets, empty until its next fetch
        // (tulios/kafkajs#1366): its own mark is lost, not ours, and a throw here would crash the consumer.
      }
      this.#committable(topic, partition, Number(offset) + 1, records)
    }
    try {
      for (const message of batch.messages) {
        // Not handled and never committed when stopping: the next owner
        // starts from the last committed offset, which is at or before it.
        if (this.#stopping || !payload.isRunning() || payload.isStale()) return
        if (state.seeksPending > 0) {
          state.heldBack ??= message.offset
          state.resumeAfterSeek ??= payload.pause()
          return
        }
        if (!(await this.#handle(topic, partition, message, state, payload, abandoned.promise))) return
        handled = message.offset
        unmarked += 1
        const now = Date.now()
        if (now - lastMark >= commitIntervalMs || this.#handledSinceCommit + unmarked >= commitEvery) {
          lastMark = now
          mark()
          if (this.#handledSinceCommit >= commitEvery) await this.#commitPending()
        }
        if (rebalance === undefined && now - lastBeat >= interval) {
          lastBeat = now
          try {
            await payload.heartbeat()
          } catch (error) {
            rebalance = error
          }
        }
        if (rebalance !== undefined) {
          // Before the partitions may move: the offsets handled so far go
          // with them (the broker still takes this generation's commits).
          mark()
          await this.#commitPending()
          throw rebalance
        }
      }
    } finally {
      mark()
      clearInterval(keepAlive)
      this.#abandons.delete(abandoned.resolve)
      state.inFlight = undefined
      settle()
    }
  }

  /** Runs the handler on one record; false when it failed (the record is then redelivered). */
  async #handle(
    topic: string,
    partition: number,
    message: KafkaMessage,
    state: PartitionState,
    payload: EachBatchPayload,
    abandoned: Promise<"crashed">,
  ): Promise<boolean> {
    const record = toBusRecord(topic, partition, message)
    try {
      const outcome = await Promise.race([
        this.#handler(record, { groupId: this.groupId, memberId: this.#memberId }),
        abandoned,
      ])
      if (outcome === "crashed" || this.#crashed) return false
      state.failures = 0
      return true
    } catch (error) {
      if (this.#crashed) return false
      this.#deps.logger.warn("handler failed; the record will be redelivered", {
        groupId: this.groupId,
        topic,
        partition,
        offset: record.offset,
        attempt: state.failures + 1,
        error: error instanceof Error ? error.message : String(error),
      })
      this.#redeliver(topic, partition, message.offset, state, payload)
      return false
    }
  }

  /** Marks `offset` (next to read) as handled on a partition; committed with the next batch of commits. */
  #committable(topic: string, partition: number, offset: number, records: number): void {
    // After stop's last commit (a handler that outlived stopTimeoutMs): the next owner redoes it.
    if (this.#crashed || this.#left) return
    this.#pending.set(`${topic}\u0000${partition}`, { topic, partition, offset: String(offset) })
    this.#handledSinceCommit += records
    this.#commitTimer ??= setTimeout(() => {
      this.#commitTimer = undefined
      void this.#commitPending()
    }, this.#deps.tuning.commitIntervalMs ?? 200)
  }

  /**
   * Commits every partition's handled offset in one request. Commits are
   * chained, so an older one never lands after a newer one.
   */
  #commitPending(): Promise<void> {
    clearTimeout(this.#commitTimer)
    this.#commitTimer = undefined
    if (this.#pending.size === 0 || this.#crashed) return this.#committing
    const batch = [...this.#pending.values()]
    this.#pending.clear()
    this.#handledSinceCommit = 0
    this.#committing = this.#committing.then(async () => {
      if (this.#crashed) return
      try {
        await this.#consumer.commitOffsets(batch)
      } catch (error) {
        this.#deps.logger.warn(
          "commit failed; it is retried with the next one while the partitions stay here",
          {
            groupId: this.groupId,
            partitions: batch.map((entry) => `${entry.topic}/${entry.partition}@${entry.offset}`),
            error: error instanceof Error ? error.message : String(error),
          },
        )
        for (const entry of batch) {
          const key = `${entry.topic}\u0000${entry.partition}`
          const owned = this.#assignment.some(
            (a) => a.topic === entry.topic && a.partition === entry.partition,
          )
          // A newer offset handled meanwhile carries this one; a partition gone is the new owner's.
          if (owned && !this.#pending.has(key)) this.#pending.set(key, entry)
        }
        if (this.#pending.size > 0 && !this.#stopping) {
          this.#commitTimer ??= setTimeout(() => {
            this.#commitTimer = undefined
            void this.#commitPending()
          }, this.#deps.tuning.commitIntervalMs ?? 200)
        }
      }
    })
    return this.#committing
  }

  /**
   * Asks the coordinator, not this member's last view: a member expelled while it was paused still believes
   * its old assignment until kafkajs's next heartbeat fails, but the coordinator no longer lists it.
   */
  async fence(): Promise<void> {
    const fenced = (reason: string) => new MemberFencedError(this.groupId, this.#memberId, reason)
    if (this.#stopping || this.#crashed) throw fenced("it stopped")
    if (this.#assignment.length === 0)
      throw fenced("the group assigns it no partition (another member holds them)")
    const { state, holds } = await this.#deps.describeMember(this.groupId, this.#memberId)
    if (state !== "Stable") throw fenced(`the group is ${state}, not Stable: its partitions may be moving`)
    if (!holds) throw fenced("the group coordinator lists it with no partition, or not at all (expelled)")
  }

  /** Commits what was handled, now: the group is rebalancing and partitions may move. */
  commitBeforeRebalance(): Promise<void> {
    return this.#commitPending()
  }

  /** Rewinds the partition to the failed record and pauses it for a backoff. */
  #redeliver(
    topic: string,
    partition: number,
    offset: string,
    state: PartitionState,
    payload: EachBatchPayload,
  ): void {
    if (this.#crashed) return
    this.#consumer.seek({ topic, partition, offset })
    if (this.#stopping) return
    state.failures += 1
    const initial = this.#deps.tuning.retryInitialMs ?? 100
    const max = this.#deps.tuning.retryMaxMs ?? 5000
    const delay = Math.min(max, initial * 2 ** Math.min(state.failures - 1, 30))
    const resume = payload.pause()
    clearTimeout(state.retry?.timer)
    state.retry = {
      resume,
      timer: setTimeout(() => {
        state.retry = undefined
        if (!this.#stopping) resume()
      }, delay),
    }
  }

  async seek(topic: string, partition: number, position: LogPosition): Promise<void> {
    if (this.#stopping) throw new KafkaClosedError("seek")
    if (!this.#assignment.some((entry) => entry.topic === topic && entry.partition === partition)) {
      throw new KafkaNotAssignedError(topic, partition, this.groupId)
    }
    const offset = await this.#deps.resolvePosition(topic, partition, position)
    const state = this.#state(topic, partition)
    state.seeksPending += 1
    let target = String(offset)
    try {
      await state.inFlight
      // A failure waiting for its redelivery would seek back on its own;
      // the seek wins, and the partition resumes once it is set.
      const retry = state.retry
      clearTimeout(retry?.timer)
      state.retry = undefined
      if (retry !== undefined) {
        const previous = state.resumeAfterSeek
        state.resumeAfterSeek = () => {
          previous?.()
          retry.resume()
        }
      }
      state.failures = 0
      this.#pending.delete(`${topic}\u0000${partition}`)
      this.#consumer.seek({ topic, partition, offset: target })
      // After any commit in flight, which may hold this partition's older position.
      await this.#committing
      await this.#consumer.commitOffsets([{ topic, partition, offset: target }])
    } catch (error) {
      // Records held back during the seek were resolved by kafkajs without
      // being handled; rewind to the first of them so none is skipped.
      if (state.heldBack !== undefined) {
        target = state.heldBack
        this.#consumer.seek({ topic, partition, offset: target })
      }
      throw translateKafkaError(error, {
        operation: "seek",
        brokers: this.#deps.brokers,
        topic,
        groupId: this.groupId,
        ...(this.#deps.principal === undefined ? {} : { principal: this.#deps.principal }),
      })
    } finally {
      state.seeksPending -= 1
      if (state.seeksPending === 0) {
        state.heldBack = undefined
        const resume = state.resumeAfterSeek
        state.resumeAfterSeek = undefined
        resume?.()
      }
    }
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop()
    return this.#stopped
  }

  /**
   * Drops the member as `kill -9` would (the caller has already severed the
   * client's sockets): handlers in flight are abandoned uncommitted, and
   * kafkajs is shut down without reaching the broker.
   */
  crash(): Promise<void> {
    this.#crashed = true
    for (const abandon of this.#abandons) abandon("crashed")
    this.#stopped ??= (async () => {
      this.#stopping = true
      clearTimeout(this.#commitTimer)
      this.#pending.clear()
      for (const state of this.#partitions.values()) clearTimeout(state.retry?.timer)
      // kafkajs tries to leave the group and fails (no sockets); bounded
      // because its retries back off.
      await withTimeout(
        this.#consumer.disconnect().catch(() => {}),
        this.#deps.tuning.stopTimeoutMs ?? 30_000,
      )
      this.#deps.onStopped(this)
    })()
    return this.#stopped
  }

  async #stop(): Promise<void> {
    this.#stopping = true
    for (const state of this.#partitions.values()) {
      clearTimeout(state.retry?.timer)
      state.retry = undefined
    }
    try {
      this.#consumer.pause(this.#topics.map((topic) => ({ topic })))
    } catch {
      // Not running yet (subscribe failed before run): nothing to pause.
    }
    const inFlight = [...this.#partitions.values()].flatMap((state) =>
      state.inFlight === undefined ? [] : [state.inFlight],
    )
    const timeoutMs = this.#deps.tuning.stopTimeoutMs ?? 30_000
    if ((await withTimeout(Promise.all(inFlight), timeoutMs)) === "timeout") {
      this.#deps.logger.warn("stop: handlers still running; leaving without committing them", {
        groupId: this.groupId,
        timeoutMs,
      })
    }
    await this.#commitPending()
    this.#left = true
    try {
      await this.#consumer.disconnect()
    } catch (error) {
      this.#deps.logger.warn("stop: disconnect failed", { groupId: this.groupId, error: String(error) })
    } finally {
      this.#deps.onStopped(this)
    }
  }
}

const deferred = <A>() => {
  let resolve: (value: A) => void = () => {}
  let reject: (error: unknown) => void = () => {}
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/**
 * Creates the consumer, joins the group and starts handling records.
 * Resolves once the member has joined and received its assignment (which
 * may be empty when the group has more members than partitions).
 *
 * @example
 * ```ts
 * const subscription = await startSubscription(
 *   { groupId: "proof-builder", topics: ["chorus.messages.observed"], handler },
 *   deps,
 * )
 * subscription.assignment() // => [{ topic: "chorus.messages.observed", partition: 0 }, …]
 * ```
 */
export const startSubscription = async (
  options: SubscribeOptions,
  deps: SubscriptionDeps,
): Promise<KafkaSubscription> => {
  const { tuning } = deps
  const context = {
    operation: "subscribe",
    brokers: deps.brokers,
    groupId: options.groupId,
    ...(options.topics.length === 1 ? { topic: options.topics[0]! } : {}),
    ...(deps.principal === undefined ? {} : { principal: deps.principal }),
  }
  // The subscription is made after the consumer, which needs the assigner: the assigner asks it lazily.
  let holds = () => false
  const consumer = deps.kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    partitionAssigners: [
      options.assignment === "single" ? singleMemberAssigner(() => holds()) : CoPartitionedAssigner,
    ],
    ...(tuning.sessionTimeoutMs === undefined ? {} : { sessionTimeout: tuning.sessionTimeoutMs }),
    ...(tuning.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeout: tuning.rebalanceTimeoutMs }),
    ...(tuning.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: tuning.heartbeatIntervalMs }),
    maxWaitTimeInMs: tuning.maxWaitTimeMs ?? 1000,
  })
  const subscription = new KafkaSubscription(consumer, options, deps)
  holds = () => subscription.assignment().length > 0
  const joined = deferred<void>()
  // A crash can reject this before anyone awaits it; the await below sees it.
  joined.promise.catch(() => {})
  // An idle member learns of a rebalance from kafkajs's own heartbeat, which
  // rejoins right after this event: the commit is sent first, while this
  // generation's commits are still taken.
  consumer.on(consumer.events.REBALANCING, () => {
    void subscription.commitBeforeRebalance()
  })
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    subscription.joined(event.payload.memberId, event.payload.memberAssignment)
    joined.resolve()
  })
  consumer.on(consumer.events.CRASH, (event) => {
    const error = translateKafkaError(event.payload.error, context)
    deps.logger.error(
      event.payload.restart ? "consumer crashed; kafkajs restarts it" : "consumer crashed for good",
      { groupId: options.groupId, error: error.message, ...error.details },
    )
    // kafkajs restarts a consumer that its ACLs refuse, forever; the join fails at once instead.
    if (!event.payload.restart || error instanceof KafkaAuthorizationError) joined.reject(error)
  })
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true })
    // run() resolves after the first join and sync, or after a crash it
    // reports through the CRASH event; the join is awaited separately.
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: tuning.partitionsConsumedConcurrently ?? 1,
      eachBatchAutoResolve: false,
      eachBatch: subscription.eachBatch,
    })
    const joinTimeoutMs = tuning.joinTimeoutMs ?? 60_000
    if ((await withTimeout(joined.promise, joinTimeoutMs)) === "timeout") {
      throw new KafkaBusError(
        "KAFKA_JOIN_TIMEOUT",
        `the member did not join group ${options.groupId} within ${joinTimeoutMs} ms`,
        { groupId: options.groupId, topics: options.topics, brokers: deps.brokers },
        "check the broker log; on a single broker, offsets.topic.replication.factor must be 1",
      )
    }
    return subscription
  } catch (error) {
    await subscription.stop().catch(() => {})
    const translated = translateKafkaError(error, context)
    if (
      translated.details.kafkaName === "KafkaJSGroupCoordinatorNotFound" &&
      deps.diagnoseGroup !== undefined
    ) {
      const cause = await deps.diagnoseGroup(options.groupId).catch(() => undefined)
      if (cause === "GROUP_AUTHORIZATION_FAILED") throw new KafkaAuthorizationError(context, cause, error)
    }
    throw translated
  }
}
