/**
 * The Kafka adapter of the bus port, through kafkajs.
 *
 * Invariants:
 * - One idempotent producer (`idempotent: true`, `maxInFlightRequests: 1`,
 *   acks = -1) per bus: a publish resolves only once every in-sync replica
 *   has the records, and a retried batch is never duplicated or reordered.
 *   Publishes made while a produce request is in flight wait and go out
 *   together in the next one (each whole, in call order, up to one broker
 *   batch), so many handlers publishing at once pay one round trip, not
 *   one each; a shared request that fails is retried publish by publish, so
 *   each caller gets its own answer.
 * - Partitions are chosen by the adapter, not inside kafkajs, with kafkajs's
 *   own `DefaultPartitioner` (murmur2, the Java client's choice) over the
 *   topic's partition list; every message is then sent with an explicit
 *   partition, so the adapter knows where each record went and can compute
 *   its exact offset (see `records.ts`).
 * - Topics are never created implicitly (`allowAutoTopicCreation: false`):
 *   `ensureTopics` creates them from the topology, and everything else fails
 *   with {@link KafkaTopicNotFoundError} when one is missing.
 * - Every error leaving the adapter is a `KafkaBusError` (see `errors.ts`),
 *   except `RecordTooLargeError`, which both buses throw alike for a record
 *   over `MAX_RECORD_BYTES`, before anything of its batch is sent.
 * - `close()` stops every subscription gracefully first (in-flight handlers
 *   finish and commit) and ends reads in progress, then disconnects the
 *   producer and the admin client. `simulateCrash` is its abrupt opposite.
 * - Every wait is bounded: connecting (`connectTimeoutMs`), publishing
 *   (`publishTimeoutMs`), joining and stopping (see `KafkaConsumerTuning`).
 * - TLS and SASL (SCRAM-SHA-512) come from `security`, or from the
 *   environment when the options say nothing (see `security.ts`). A refused
 *   login, an untrusted certificate and an ACL that does not allow an
 *   operation each fail with one error that says so
 *   (`KafkaAuthenticationError`, `KafkaTlsError`, `KafkaAuthorizationError`
 *   naming the principal and the topic or group).
 * - Admin requests go one at a time (`#serialized`: kafkajs's admin keeps
 *   one metadata cache). Watermarks are asked before many decisions (every
 *   chain-halts check), so callers for a topic share the request still
 *   waiting its turn: it is sent after each of them asked, so no answer is
 *   older than its call; a caller after it was sent gets a new one.
 * - The producer connects on the first publish, not at open: a read-only
 *   principal (the auditor, `chorus trace`) needs no right to write
 *   anything, not even the idempotent producer's id.
 *
 * @module
 */
import {
  type Admin,
  AssignerProtocol,
  Kafka,
  logLevel,
  Partitioners,
  type PartitionMetadata,
  type Producer,
} from "kafkajs"
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
import { assertRecordSize, MAX_RECORD_BYTES, recordSize } from "../record-size.ts"
import {
  KafkaAuthorizationError,
  KafkaBusError,
  KafkaClosedError,
  KafkaConfigError,
  KafkaOperationError,
  KafkaTlsError,
  KafkaTopicNotFoundError,
  KafkaUnreachableError,
  rootCause,
  translateKafkaError,
} from "./errors.ts"
import {
  type KafkaBusLogger,
  type KafkaLogLevel,
  kafkajsLogCreator,
  stderrLogger,
  toKafkaJSLevel,
} from "./logger.ts"
import { type OffsetLookups, resolvePositions } from "./positions.ts"
import { readRange } from "./read.ts"
import { positionsFromResponse, toKafkaMessage } from "./records.ts"
import { type KafkaSecurity, kafkaSecurityFromEnv, principalOf, toKafkaJS } from "./security.ts"
import { refusedCertificate, type SocketTracker, trackSockets } from "./sockets.ts"
import { type KafkaConsumerTuning, type KafkaSubscription, startSubscription } from "./subscription.ts"

export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: ReadonlyArray<string>
  /** Default `chorus`. */
  readonly clientId?: string
  /** Where log lines go; default one line per entry on stderr. */
  readonly logger?: KafkaBusLogger
  /** Lowest level of kafkajs's own log lines passed to `logger`. Default `warn`. */
  readonly logLevel?: KafkaLogLevel
  /**
   * Bound on `openKafkaBus` reaching a broker. Past it, it fails with
   * {@link KafkaUnreachableError}. Default 10000.
   */
  readonly connectTimeoutMs?: number
  /** kafkajs `requestTimeout`. Default 30000. */
  readonly requestTimeoutMs?: number
  /**
   * kafkajs `retry.retries` for admin and consumer requests (not handlers,
   * not the producer: the idempotent producer retries without limit, as
   * kafkajs requires for its guarantees). Default 5.
   */
  readonly retries?: number
  /**
   * Bound on a publish. Past it, publish fails with KAFKA_PUBLISH_TIMEOUT;
   * the producer keeps retrying in the background, so the records may still
   * land (at-least-once: the caller does not commit its input and redoes
   * the work). Default 60000.
   */
  readonly publishTimeoutMs?: number
  /** How long a topic's partition list is trusted before it is fetched again. Default 30000. */
  readonly metadataMaxAgeMs?: number
  readonly consumer?: KafkaConsumerTuning
  /**
   * TLS and SASL towards the brokers. When absent, the environment decides
   * (`CHORUS_KAFKA_CA`, `CHORUS_KAFKA_SASL_USERNAME`, … see `security.ts`),
   * and without those, PLAINTEXT. `{}` is PLAINTEXT whatever the environment says.
   */
  readonly security?: KafkaSecurity
}

const BROKER = /^[^\s:]+:\d{1,5}$/

/** Broker error types (kafkajs names) that pass by themselves; see `#retryTransient`. */
const TRANSIENT = new Set([
  "NOT_LEADER_FOR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE",
  "UNKNOWN_LEADER_EPOCH",
  "OFFSET_NOT_AVAILABLE",
  "GROUP_LOAD_IN_PROGRESS",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
])

const validateOptions = (options: KafkaBusOptions): void => {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new KafkaConfigError(
      "no Kafka brokers given",
      { brokers: options.brokers },
      "pass brokers as host:port, e.g. KAFKA_BROKERS=127.0.0.1:9092",
    )
  }
  for (const broker of options.brokers) {
    if (typeof broker !== "string" || !BROKER.test(broker)) {
      throw new KafkaConfigError(
        `broker address ${JSON.stringify(broker)} is not host:port`,
        { brokers: options.brokers },
        "pass brokers as host:port, e.g. 127.0.0.1:9092",
      )
    }
  }
}

const validateSpec = (spec: TopicSpec): void => {
  if (typeof spec.name !== "string" || !/^[a-zA-Z0-9._-]{1,249}$/.test(spec.name)) {
    throw new KafkaConfigError(`invalid topic name ${JSON.stringify(spec.name)}`, { topic: spec.name })
  }
  if (!Number.isSafeInteger(spec.partitions) || spec.partitions < 1) {
    throw new KafkaConfigError(`topic ${spec.name}: partitions must be a positive integer`, { ...spec })
  }
  if (spec.cleanupPolicy !== "delete" && spec.cleanupPolicy !== "compact") {
    throw new KafkaConfigError(`topic ${spec.name}: cleanupPolicy must be delete or compact`, { ...spec })
  }
  if (!Number.isSafeInteger(spec.retentionMs) || spec.retentionMs < -1) {
    throw new KafkaConfigError(`topic ${spec.name}: retentionMs must be an integer >= -1`, { ...spec })
  }
}

/** How many copies of a topic the cluster keeps, and how many acks=all waits for. */
interface TopicDurability {
  readonly replicationFactor: number
  /** Set as the topic's `min.insync.replicas`; absent: the broker's default. */
  readonly minInsyncReplicas?: number
}

/**
 * The durability of the topics `ensureTopics` creates, from the brokers the
 * cluster has (not from the bootstrap list, which may name one of them): a
 * replica on each broker, up to three, and with three, acks=all needs two of
 * them in sync, so one broker down loses nothing and stops nothing, and two
 * down refuse writes rather than keep a single copy.
 *
 * @example topicDurability(1) // { replicationFactor: 1 }
 * @example topicDurability(5) // { replicationFactor: 3, minInsyncReplicas: 2 }
 */
const topicDurability = (brokers: number): TopicDurability => {
  const replicationFactor = Math.max(1, Math.min(3, brokers))
  return replicationFactor >= 3 ? { replicationFactor, minInsyncReplicas: 2 } : { replicationFactor }
}

const deadline = async <A>(promise: Promise<A>, ms: number, onTimeout: () => Error): Promise<A> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** A publish waiting for its produce request. */
interface QueuedPublish {
  readonly records: ReadonlyArray<OutgoingRecord>
  readonly partitions: ReadonlyArray<number>
  readonly bytes: number
  readonly resolve: (positions: ReadonlyArray<RecordPosition>) => void
  readonly reject: (error: unknown) => void
}

/** The adapter; {@link openKafkaBus} creates it connected. */
class KafkaBus implements BusPort {
  readonly kind = "kafka" as const
  readonly #brokers: ReadonlyArray<string>
  readonly #kafka: Kafka
  readonly #admin: Admin
  #producer: Producer
  /** A new producer (a new producer id), for when the current one's sequence state is broken. */
  readonly #newProducer: () => Producer
  /** Set by the first publish; cleared when connecting fails, so the next publish tries again. */
  #producerConnected: Promise<void> | undefined
  readonly #logger: KafkaBusLogger
  readonly #options: KafkaBusOptions
  readonly #principal: string | undefined
  readonly #security: KafkaSecurity | undefined
  // kafkajs's partitioner keeps a round-robin counter per topic for keyless
  // records; one instance for the bus's lifetime, as inside kafkajs.
  readonly #partitioner = Partitioners.DefaultPartitioner()
  readonly #metadata = new Map<string, { readonly at: number; readonly partitions: PartitionMetadata[] }>()
  readonly #subscriptions = new Set<KafkaSubscription>()
  /** Releases of the reads in progress. */
  readonly #reads = new Set<() => Promise<void>>()
  readonly #sockets: SocketTracker
  #closed: Promise<void> | undefined
  /** Publishes waiting for the produce request in flight to finish. */
  readonly #queue: QueuedPublish[] = []
  #sending = false

  constructor(
    options: KafkaBusOptions,
    kafka: Kafka,
    admin: Admin,
    producer: { readonly first: Producer; readonly next: () => Producer },
    logger: KafkaBusLogger,
    sockets: SocketTracker,
    security: KafkaSecurity | undefined,
  ) {
    this.#options = options
    this.#security = security
    this.#principal = principalOf(security)
    this.#sockets = sockets
    this.#brokers = [...options.brokers]
    this.#kafka = kafka
    this.#admin = admin
    this.#producer = producer.first
    this.#newProducer = producer.next
    this.#logger = logger
  }

  #open(operation: string): void {
    if (this.#closed !== undefined) throw new KafkaClosedError(operation)
  }

  #error(error: unknown, operation: string, topic?: string, groupId?: string) {
    return translateKafkaError(error, {
      operation,
      brokers: this.#brokers,
      ...(topic === undefined ? {} : { topic }),
      ...(groupId === undefined ? {} : { groupId }),
      ...(this.#principal === undefined ? {} : { principal: this.#principal }),
    })
  }

  /**
   * Swaps in a new producer after a failover broke the idempotent producer's sequence state: kafkajs never
   * recovers that on its own, and every later publish to the partition would fail the same way. The new one
   * gets a new producer id, so its sequences start afresh; the records of the failed publish were not
   * acknowledged, and a caller that publishes them again may store some twice (consumers drop them by id).
   */
  #replaceProducer(cause: unknown): void {
    const broken = this.#producer
    this.#producer = this.#newProducer()
    this.#producerConnected = undefined
    this.#logger.warn(
      "the producer's sequence state broke in a failover; publishing through a new producer",
      {
        error: cause instanceof Error ? cause.message : String(cause),
      },
    )
    broken.disconnect().catch(() => {})
  }

  /** Connects the producer once, on the first publish (see the module's invariants). */
  #connectProducer(): Promise<void> {
    if (this.#producerConnected === undefined) {
      const connecting = this.#producer.connect()
      this.#producerConnected = connecting
      connecting.catch(() => {
        if (this.#producerConnected === connecting) this.#producerConnected = undefined
      })
    }
    return this.#producerConnected
  }

  async #partitionMetadata(topic: string, operation: string, fresh = false): Promise<PartitionMetadata[]> {
    const cached = this.#metadata.get(topic)
    const maxAge = this.#options.metadataMaxAgeMs ?? 30_000
    if (!fresh && cached !== undefined && Date.now() - cached.at < maxAge) return cached.partitions
    let partitions: PartitionMetadata[]
    try {
      const { topics } = await this.#serialized(() => this.#admin.fetchTopicMetadata({ topics: [topic] }))
      partitions = [...(topics[0]?.partitions ?? [])].sort((a, b) => a.partitionId - b.partitionId)
    } catch (error) {
      this.#metadata.delete(topic)
      throw this.#error(error, operation, topic)
    }
    if (partitions.length === 0) throw new KafkaTopicNotFoundError(topic, operation)
    this.#metadata.set(topic, { at: Date.now(), partitions })
    return partitions
  }

  async ensureTopics(topics: ReadonlyArray<TopicSpec>): Promise<EnsureTopicsResult> {
    this.#open("ensureTopics")
    for (const spec of topics) validateSpec(spec)
    try {
      const existing = new Set(await this.#serialized(() => this.#admin.listTopics()))
      const missing = topics.filter((spec) => !existing.has(spec.name))
      if (missing.length === 0) return { created: [], existing: topics.map((spec) => spec.name) }
      const { brokers } = await this.#serialized(() => this.#admin.describeCluster())
      const durability = topicDurability(brokers.length)
      // One request per topic: kafkajs reports "already exists" only for a
      // whole request, and another process may be creating the same topics.
      const results = await Promise.all(
        missing.map(async (spec) => ({
          name: spec.name,
          created: await this.#createTopic(spec, durability),
        })),
      )
      const refused = results.filter((result) => result.created === "refused").map((result) => result.name)
      if (refused.length > 0) {
        // A principal sees only the topics its ACLs let it describe, and
        // may create none: the topics it cannot see are someone else's,
        // which it could not use anyway. They are left out of the result.
        this.#logger.warn(
          `ensureTopics: ${this.#principal ?? "this client"} cannot see ${refused.length} topic(s) and may not create them; left to \`chorus topics create\` run by an admin`,
          { topics: refused, ...(this.#principal === undefined ? {} : { principal: this.#principal }) },
        )
      }
      const created = new Set(
        results.filter((result) => result.created === true).map((result) => result.name),
      )
      await this.#awaitTopicsReady(missing.filter((spec) => !refused.includes(spec.name)))
      return {
        created: topics.filter((spec) => created.has(spec.name)).map((spec) => spec.name),
        existing: topics
          .filter((spec) => !created.has(spec.name) && !refused.includes(spec.name))
          .map((spec) => spec.name),
      }
    } catch (error) {
      throw this.#error(error, "ensureTopics", topics.length === 1 ? topics[0]!.name : undefined)
    }
  }

  /**
   * Creates one topic: true when created, false when it already existed,
   * `"refused"` when this principal may not create it (nor, since it was
   * not listed, see it).
   */
  async #createTopic(spec: TopicSpec, durability: TopicDurability): Promise<boolean | "refused"> {
    try {
      return await this.#admin.createTopics({
        // kafkajs waits only through LEADER_NOT_AVAILABLE; a KRaft
        // broker's metadata can also lag as UNKNOWN_TOPIC_OR_PARTITION
        // right after creation, so readiness is awaited below instead.
        waitForLeaders: false,
        topics: [
          {
            topic: spec.name,
            numPartitions: spec.partitions,
            replicationFactor: durability.replicationFactor,
            configEntries: [
              { name: "cleanup.policy", value: spec.cleanupPolicy },
              { name: "retention.ms", value: String(spec.retentionMs) },
              ...(durability.minInsyncReplicas === undefined
                ? []
                : [{ name: "min.insync.replicas", value: String(durability.minInsyncReplicas) }]),
            ],
          },
        ],
      })
    } catch (error) {
      const translated = this.#error(error, "ensureTopics", spec.name)
      if (
        translated instanceof KafkaAuthorizationError &&
        (translated.details.kafkaError === "TOPIC_AUTHORIZATION_FAILED" ||
          translated.details.kafkaError === "CLUSTER_AUTHORIZATION_FAILED")
      ) {
        return "refused"
      }
      throw translated
    }
  }

  /**
   * Runs an admin request again while it fails with a leadership or
   * coordinator error that passes by itself — a partition whose leader is
   * still being set up (right after creation, or during a failover), a group
   * coordinator still loading. kafkajs's admin gives up on these at once.
   * Bounded by `requestTimeoutMs`.
   */
  async #retryTransient<A>(request: () => Promise<A>): Promise<A> {
    const deadlineAt = Date.now() + (this.#options.requestTimeoutMs ?? 30_000)
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      try {
        return await this.#serialized(request)
      } catch (error) {
        const type = (rootCause(error) as { type?: unknown } | undefined)?.type
        if (typeof type !== "string" || !TRANSIENT.has(type) || Date.now() + delay > deadlineAt) throw error
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }

  #adminQueue: Promise<unknown> = Promise.resolve()

  /**
   * One admin request at a time: kafkajs's admin keeps one metadata cache
   * per cluster object, and `fetchTopicMetadata` for one topic replaces it,
   * so a concurrent `fetchTopicOffsets` for another topic finds no
   * partitions ("Cannot destructure property 'partitions' of
   * 'high.pop(...)'"). Services rebuilding several shards at once hit it.
   */
  #serialized<A>(request: () => Promise<A>): Promise<A> {
    const run = this.#adminQueue.then(request, request)
    this.#adminQueue = run.catch(() => undefined)
    return run
  }

  /** Polls metadata until every partition of every topic has a leader (bounded). */
  async #awaitTopicsReady(specs: ReadonlyArray<TopicSpec>): Promise<void> {
    const timeoutMs = this.#options.requestTimeoutMs ?? 30_000
    const deadlineAt = Date.now() + timeoutMs
    const names = specs.map((spec) => spec.name)
    let last: unknown
    for (;;) {
      try {
        const { topics } = await this.#serialized(() => this.#admin.fetchTopicMetadata({ topics: names }))
        const ready = specs.every((spec) => {
          const partitions = topics.find((topic) => topic.name === spec.name)?.partitions ?? []
          return (
            partitions.length === spec.partitions && partitions.every((partition) => partition.leader >= 0)
          )
        })
        if (ready) return
        last = "some partitions have no leader yet"
      } catch (error) {
        const type = (rootCause(error) as { type?: unknown } | undefined)?.type
        if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "LEADER_NOT_AVAILABLE") throw error
        last = error
      }
      if (Date.now() > deadlineAt) {
        throw new KafkaOperationError(
          "ensureTopics",
          `topics were created but not ready within ${timeoutMs} ms`,
          {
            topics: names,
            brokers: this.#brokers,
            last: last instanceof Error ? last.message : String(last),
          },
          "check the broker log (`scripts/kafka-local logs`); a second run of ensureTopics reports them as existing",
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async partitions(topic: string): Promise<number> {
    this.#open("partitions")
    return (await this.#partitionMetadata(topic, "partitions", true)).length
  }

  async publish(records: ReadonlyArray<OutgoingRecord>): Promise<ReadonlyArray<RecordPosition>> {
    this.#open("publish")
    if (records.length === 0) return []
    // Before anything of the batch is sent: the broker's own refusal names neither topic nor record.
    for (const record of records) assertRecordSize(record)
    const metadata = new Map<string, PartitionMetadata[]>()
    for (const record of records) {
      if (!metadata.has(record.topic)) {
        metadata.set(record.topic, await this.#partitionMetadata(record.topic, "publish"))
      }
    }
    const partitions = records.map((record) => {
      const partitionMetadata = metadata.get(record.topic)!
      if (record.partition !== undefined) {
        if (
          !Number.isSafeInteger(record.partition) ||
          record.partition < 0 ||
          record.partition >= partitionMetadata.length
        ) {
          throw new KafkaConfigError(
            `partition ${record.partition} does not exist on topic ${record.topic} (${partitionMetadata.length} partitions)`,
            { topic: record.topic, partition: record.partition, partitions: partitionMetadata.length },
          )
        }
        return record.partition
      }
      return this.#partitioner({
        topic: record.topic,
        partitionMetadata,
        message: { key: record.key, value: null },
      })
    })
    const topics = [...new Set(records.map((record) => record.topic))]
    const publishTimeoutMs = this.#options.publishTimeoutMs ?? 60_000
    return deadline(
      this.#enqueue(records, partitions),
      publishTimeoutMs,
      () =>
        new KafkaBusError(
          "KAFKA_PUBLISH_TIMEOUT",
          `publish was not acknowledged within ${publishTimeoutMs} ms`,
          { brokers: this.#brokers, topics, records: records.length },
          "the records may still be written (the producer keeps retrying); do not commit the input, " +
            "check the brokers (`scripts/kafka-local status`) and redo the work",
        ),
    )
  }

  /**
   * Queues a publish for the next produce request. Publishes made while a
   * request is in flight go out together in the next one (one round trip
   * for many handlers' outputs), each whole and in call order.
   */
  #enqueue(
    records: ReadonlyArray<OutgoingRecord>,
    partitions: ReadonlyArray<number>,
  ): Promise<ReadonlyArray<RecordPosition>> {
    const { promise, resolve, reject } = Promise.withResolvers<ReadonlyArray<RecordPosition>>()
    let bytes = 0
    for (const record of records) bytes += recordSize(record)
    this.#queue.push({ records, partitions, bytes, resolve, reject })
    if (!this.#sending) void this.#drain()
    return promise
  }

  async #drain(): Promise<void> {
    this.#sending = true
    try {
      while (this.#queue.length > 0) {
        // The first publish whole, then as many whole publishes as fit one broker batch.
        let taken = 1
        let bytes = this.#queue[0]!.bytes
        while (taken < this.#queue.length && bytes + this.#queue[taken]!.bytes <= MAX_RECORD_BYTES) {
          bytes += this.#queue[taken]!.bytes
          taken += 1
        }
        const group = this.#queue.splice(0, taken)
        try {
          await this.#send(group)
        } catch {
          // One publish's failure (a topic deleted, an ACL) must not fail the
          // others: each is sent again alone and gets its own answer.
          for (const pending of group) await this.#send([pending]).catch(() => undefined)
        }
      }
    } finally {
      this.#sending = false
    }
  }

  /** Sends publishes in one request and settles each; rethrows when several shared a failed request. */
  async #send(group: ReadonlyArray<QueuedPublish>): Promise<void> {
    const records = group.flatMap((pending) => pending.records)
    const partitions = group.flatMap((pending) => pending.partitions)
    const byTopic = new Map<string, ReturnType<typeof toKafkaMessage>[]>()
    records.forEach((record, index) => {
      const messages = byTopic.get(record.topic) ?? []
      messages.push(toKafkaMessage(record, partitions[index]!))
      byTopic.set(record.topic, messages)
    })
    let positions: ReadonlyArray<RecordPosition>
    try {
      await this.#connectProducer()
      const response = await this.#producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([name, messages]) => ({ topic: name, messages })),
      })
      positions = positionsFromResponse(records, partitions, response)
    } catch (error) {
      // A partition count change or a deleted topic shows up here first.
      for (const topic of byTopic.keys()) this.#metadata.delete(topic)
      if (brokenSequence(error)) this.#replaceProducer(error)
      if (group.length > 1) throw error
      const topic = byTopic.size === 1 ? records[0]!.topic : undefined
      group[0]!.reject(this.#error(error, "publish", topic))
      return
    }
    let at = 0
    for (const pending of group) {
      pending.resolve(positions.slice(at, at + pending.records.length))
      at += pending.records.length
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.#open("subscribe")
    if (typeof options.groupId !== "string" || options.groupId.length === 0) {
      throw new KafkaConfigError("groupId must be a non-empty string", { groupId: options.groupId })
    }
    if (options.topics.length === 0) {
      throw new KafkaConfigError("subscribe needs at least one topic", { groupId: options.groupId })
    }
    // Fail fast and clearly on a missing topic, before kafkajs retries it.
    for (const topic of options.topics) await this.#partitionMetadata(topic, "subscribe", true)
    const subscription = await startSubscription(options, {
      kafka: this.#kafka,
      brokers: this.#brokers,
      ...(this.#principal === undefined ? {} : { principal: this.#principal }),
      diagnoseGroup: (groupId) => diagnoseGroup(this.#brokers, this.#security, groupId),
      logger: this.#logger,
      tuning: this.#options.consumer ?? {},
      resolvePosition: async (topic, partition, position) =>
        (await resolvePositions(this.#lookups, topic, [partition], position)).get(partition)!,
      onStopped: (stopped) => this.#subscriptions.delete(stopped),
      describeMember: async (groupId, memberId) => {
        const { groups } = await this.#serialized(() => this.#admin.describeGroups([groupId]))
        const group = groups.find((g) => g.groupId === groupId)
        const member = group?.members.find((m) => m.memberId === memberId)
        const assigned =
          member === undefined || member.memberAssignment.length === 0
            ? null
            : AssignerProtocol.MemberAssignment.decode(member.memberAssignment)
        return {
          state: group?.state ?? "Dead",
          holds: Object.values(assigned?.assignment ?? {}).some((partitions) => partitions.length > 0),
        }
      },
    })
    if (this.#closed !== undefined) {
      await subscription.stop()
      throw new KafkaClosedError("subscribe")
    }
    this.#subscriptions.add(subscription)
    return subscription
  }

  read(options: ReadRangeOptions): AsyncIterable<BusRecord> {
    // Checked when iteration starts, like every other failure of a read.
    const open = () => this.#open("read")
    const deps = {
      kafka: this.#kafka,
      admin: this.#admin,
      brokers: this.#brokers,
      ...(this.#principal === undefined ? {} : { principal: this.#principal }),
      logger: this.#logger,
      lookups: this.#lookups,
      maxWaitTimeMs: this.#options.consumer?.maxWaitTimeMs ?? 1000,
      track: (release: () => Promise<void>) => {
        this.#reads.add(release)
        return () => {
          this.#reads.delete(release)
        }
      },
    }
    return (async function* () {
      open()
      yield* readRange(options, deps)
    })()
  }

  readonly #lookups: OffsetLookups = {
    watermarks: (topic) => this.watermarks(topic),
    offsetsForTimestamp: (topic, timestamp) => this.offsetsForTimestamp(topic, timestamp),
  }

  /** Per topic, the watermarks request waiting in the admin queue that has not been sent yet. */
  readonly #watermarksWaiting = new Map<string, Promise<ReadonlyArray<PartitionWatermarks>>>()

  async watermarks(topic: string): Promise<ReadonlyArray<PartitionWatermarks>> {
    this.#open("watermarks")
    // Callers that ask while a request for the topic still waits its turn share it: it is sent after
    // each of them asked, so its answer is as fresh as one of their own. Admin requests go one at a time,
    // and views that check a topic before each decision (the chain halts) would otherwise queue one each.
    const waiting = this.#watermarksWaiting.get(topic)
    if (waiting !== undefined) return waiting
    const answer = this.#fetchWatermarks(topic, () => {
      if (this.#watermarksWaiting.get(topic) === answer) this.#watermarksWaiting.delete(topic)
    })
    this.#watermarksWaiting.set(topic, answer)
    return answer
  }

  async #fetchWatermarks(topic: string, sent: () => void): Promise<ReadonlyArray<PartitionWatermarks>> {
    try {
      await this.#partitionMetadata(topic, "watermarks")
    } catch (error) {
      sent()
      throw error
    }
    try {
      const offsets = await this.#retryTransient(() => {
        sent()
        return this.#admin.fetchTopicOffsets(topic)
      })
      return offsets
        .map((entry) => ({ partition: entry.partition, low: Number(entry.low), high: Number(entry.high) }))
        .sort((a, b) => a.partition - b.partition)
    } catch (error) {
      throw this.#error(error, "watermarks", topic)
    }
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<ReadonlyArray<PartitionOffset>> {
    this.#open("offsetsForTimestamp")
    if (!Number.isFinite(timestamp)) {
      throw new KafkaConfigError(`timestamp must be a finite number of milliseconds, got ${timestamp}`, {
        topic,
        timestamp,
      })
    }
    await this.#partitionMetadata(topic, "offsetsForTimestamp")
    try {
      const offsets = await this.#retryTransient(() =>
        this.#admin.fetchTopicOffsetsByTimestamp(topic, Math.trunc(timestamp)),
      )
      return offsets
        .map((entry) => ({ partition: entry.partition, offset: Number(entry.offset) }))
        .sort((a, b) => a.partition - b.partition)
    } catch (error) {
      throw this.#error(error, "offsetsForTimestamp", topic)
    }
  }

  async committedOffsets(groupId: string, topic: string): Promise<ReadonlyArray<PartitionOffset>> {
    this.#open("committedOffsets")
    try {
      const offsets = await this.#retryTransient(() => this.#admin.fetchOffsets({ groupId, topics: [topic] }))
      return (offsets.find((entry) => entry.topic === topic)?.partitions ?? [])
        .map((entry) => ({ partition: entry.partition, offset: Number(entry.offset) }))
        .filter((entry) => entry.offset >= 0)
        .sort((a, b) => a.partition - b.partition)
    } catch (error) {
      throw this.#error(error, "committedOffsets", topic, groupId)
    }
  }

  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  /** See {@link simulateCrash}. */
  crash(): Promise<void> {
    const crashing = (async () => {
      this.#sockets.sever()
      const quietly = (promise: Promise<unknown>) => promise.catch(() => {})
      await Promise.all([
        ...[...this.#subscriptions].map((subscription) => subscription.crash()),
        quietly(this.#producer.disconnect()),
        quietly(this.#admin.disconnect()),
      ])
    })()
    this.#closed ??= crashing
    return crashing
  }

  async #close(): Promise<void> {
    await Promise.all([
      ...[...this.#subscriptions].map((subscription) => subscription.stop()),
      ...[...this.#reads].map((release) => release()),
      // A producer still connecting would otherwise connect after the disconnect below.
      this.#producerConnected?.catch(() => {}),
    ])
    await Promise.all([
      this.#producer.disconnect().catch((error: unknown) => {
        this.#logger.warn("close: producer disconnect failed", { error: String(error) })
      }),
      this.#admin.disconnect().catch((error: unknown) => {
        this.#logger.warn("close: admin disconnect failed", { error: String(error) })
      }),
    ])
  }
}

/**
 * Whether a failed produce left the idempotent producer's sequence state wrong for good: the broker holds a
 * batch the dead leader stored without acknowledging (OUT_OF_ORDER_SEQUENCE_NUMBER), forgot the producer
 * (UNKNOWN_PRODUCER_ID), or fenced its epoch; or kafkajs reported success while leaving a partition out
 * (`positionsFromResponse`: "acknowledged no batch"), which happens when a leader moves mid-send.
 */
const brokenSequence = (error: unknown): boolean => {
  // kafkajs wraps a retried failure (`originalError`); Error causes chain too.
  const next = (e: Error): unknown => (e as { originalError?: unknown }).originalError ?? e.cause
  for (let cause: unknown = error; cause instanceof Error; cause = next(cause)) {
    const type = (cause as { type?: unknown }).type
    if (
      type === "OUT_OF_ORDER_SEQUENCE_NUMBER" ||
      type === "UNKNOWN_PRODUCER_ID" ||
      type === "INVALID_PRODUCER_EPOCH"
    )
      return true
    if (/out of order sequence number|acknowledged no batch/i.test(cause.message)) return true
  }
  return false
}

/**
 * Why kafkajs found no coordinator for a group: it swallows the broker's
 * answer to FindCoordinator, which for a group the principal's ACLs do not
 * allow is GROUP_AUTHORIZATION_FAILED. Asked once, after a failure, by a
 * short-lived client that logs at debug level, where kafkajs does say it.
 */
const diagnoseGroup = async (
  brokers: ReadonlyArray<string>,
  security: KafkaSecurity | undefined,
  groupId: string,
): Promise<string | undefined> => {
  let found: string | undefined
  const admin = new Kafka({
    clientId: "chorus-diagnose",
    brokers: [...brokers],
    socketFactory: trackSockets().socketFactory,
    ...toKafkaJS(security),
    retry: { retries: 0 },
    connectionTimeout: 3_000,
    logLevel: logLevel.DEBUG,
    logCreator:
      () =>
      ({ log }) => {
        const type = (log as { error?: { type?: unknown } }).error?.type
        if (log.message === "Tried to find group coordinator" && typeof type === "string") found ??= type
      },
  }).admin()
  try {
    await admin.connect()
    // Loads the cluster's brokers, which finding a coordinator needs.
    await admin.listTopics()
    await admin.describeGroups([groupId]).catch(() => undefined)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
  return found
}

/**
 * Connects to Kafka and returns the bus. Fails within `connectTimeoutMs`
 * with {@link KafkaUnreachableError} when no broker answers.
 *
 * @example
 * ```ts
 * const bus = await openKafkaBus({ brokers: ["127.0.0.1:9092"], clientId: "proof-builder" })
 * await bus.publish([{ topic: "chorus.messages.observed", key: "0xabc", value: bytes }])
 * await bus.close()
 * ```
 */
export const openKafkaBus = async (options: KafkaBusOptions): Promise<BusPort> => {
  validateOptions(options)
  const logger = options.logger ?? stderrLogger(options.logLevel ?? "warn")
  const brokers = [...options.brokers]
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
  const security = options.security ?? kafkaSecurityFromEnv()
  const principal = principalOf(security)
  const sockets = trackSockets()
  const kafka = new Kafka({
    clientId: options.clientId ?? "chorus",
    socketFactory: sockets.socketFactory,
    brokers,
    ...toKafkaJS(security),
    logLevel: toKafkaJSLevel(options.logLevel ?? "warn"),
    // A crashed client's reconnect attempts are expected, not news.
    logCreator: kafkajsLogCreator(logger, () => sockets.severed),
    connectionTimeout: Math.min(3000, connectTimeoutMs),
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { retries: options.retries ?? 5 },
  })
  const admin = kafka.admin()
  const newProducer = () =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs's own default for an idempotent producer; set explicitly
      // because the client-wide `retry` would otherwise limit it.
      retry: { retries: Number.MAX_SAFE_INTEGER },
      // Explicit, which is also what silences kafkajs's v2 partitioner warning.
      createPartitioner: Partitioners.DefaultPartitioner,
    })
  const producer = newProducer()
  // An untrusted certificate is retried as a connection error until the
  // deadline; the sockets remember why.
  const tlsFailure = (): KafkaTlsError | undefined => {
    const failure = sockets.lastTlsFailure
    if (failure === undefined) return undefined
    const translated = translateKafkaError(failure.error, { operation: "connect", brokers })
    return translated instanceof KafkaTlsError
      ? translated
      : new KafkaTlsError(failure.broker, "connect", failure.error.code, failure.error.message, failure.error)
  }
  try {
    await deadline(
      Promise.race([
        (async () => {
          await admin.connect()
          // connect() succeeds lazily on some failures; a real request proves
          // a broker answers.
          await admin.describeCluster()
        })(),
        // A refused certificate stays refused: no point retrying until the deadline.
        refusedCertificate(sockets),
      ]),
      connectTimeoutMs,
      () =>
        tlsFailure() ??
        new KafkaUnreachableError(brokers, "connect", `no answer within ${connectTimeoutMs} ms`),
    )
  } catch (error) {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()])
    const translated = translateKafkaError(error, {
      operation: "connect",
      brokers,
      ...(principal === undefined ? {} : { principal }),
    })
    throw translated instanceof KafkaUnreachableError ? (tlsFailure() ?? translated) : translated
  }
  return new KafkaBus(
    options,
    kafka,
    admin,
    { first: producer, next: newProducer },
    logger,
    sockets,
    security,
  )
}

/**
 * Drops a Kafka bus as `kill -9` would, for tests and failure drills: its
 * sockets are cut at once, so no further commit, heartbeat or LeaveGroup
 * reaches the cluster; its handlers in flight are abandoned uncommitted;
 * acknowledged publishes stay acknowledged. The group reassigns the
 * member's partitions once its session times out. The bus is unusable
 * afterwards.
 *
 * @example
 * ```ts
 * const bus = await openKafkaBus({ brokers, consumer: { sessionTimeoutMs: 6000 } })
 * await bus.subscribe({ groupId, topics: [topic], handler })
 * await simulateCrash(bus) // another member takes over after ~6 s, from the last commit
 * ```
 */
export const simulateCrash = async (bus: BusPort): Promise<void> => {
  if (!(bus instanceof KafkaBus)) {
    throw new KafkaConfigError("simulateCrash needs a bus made by openKafkaBus", { kind: bus.kind })
  }
  await bus.crash()
}
