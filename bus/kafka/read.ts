/**
 * Reading a fixed range of a topic without joining a real consumer group.
 *
 * kafkajs has no `assign()`, so a read uses a throwaway group
 * (`chorus-read-<uuid>`) that is deleted afterwards, and never commits.
 *
 * Invariants:
 * - The range is fixed when the read starts: `from` and `to` are resolved
 *   into offsets per partition up front, so records written during the read
 *   are not included.
 * - Records come partition by partition (ascending), each partition in
 *   offset order, each record once: only the partition whose turn it is
 *   fetches, the others stay paused; a record below the next expected
 *   offset (a refetch after a rebalance) is dropped.
 * - Memory is bounded: when the reader falls behind, the fetch loop waits
 *   (heartbeating, so the throwaway member stays in its group).
 * - A read that makes no progress for `idleTimeoutMs` fails instead of
 *   hanging.
 * - Its consumer is released (disconnected, group deleted) exactly once:
 *   when the reader finishes or stops early, or when the bus closes under it
 *   (the reader then gets `KafkaClosedError`).
 * - Known gap: a range ending in transaction control records would never
 *   see its end offset; Chorus producers are idempotent, not
 *   transactional, so its topics have none.
 *
 * @module
 */
import { randomUUID } from "node:crypto"
import type { Admin, EachBatchPayload, Kafka } from "kafkajs"
import { KAFKA_READ_GROUP_PREFIX } from "../../topology/acls.ts"
import type { BusRecord, ReadRangeOptions } from "../port.ts"
import {
  KafkaAuthorizationError,
  KafkaBusError,
  KafkaClosedError,
  KafkaConfigError,
  translateKafkaError,
} from "./errors.ts"
import type { KafkaBusLogger } from "./logger.ts"
import { type OffsetLookups, resolvePositions } from "./positions.ts"
import { toBusRecord } from "./records.ts"

/** Upper bound on a read consumer's fetch wait. */
const READ_MAX_WAIT_MS = 50

/** What a read needs from the bus. */
export interface ReadDeps {
  readonly kafka: Kafka
  readonly admin: Admin
  readonly brokers: ReadonlyArray<string>
  /** The SASL principal, for errors. */
  readonly principal?: string
  readonly logger: KafkaBusLogger
  readonly lookups: OffsetLookups
  readonly maxWaitTimeMs: number
  /** Fail when no record arrives for this long while some are still due. Default 60000. */
  readonly idleTimeoutMs?: number
  /** Records buffered ahead of the reader before the fetch loop waits. Default 1000. */
  readonly bufferSize?: number
  /**
   * Registers the read's release with its bus, which calls it on close;
   * returns the unregistration.
   */
  readonly track: (release: () => Promise<void>) => () => void
}

interface PartitionRange {
  readonly partition: number
  /** The next offset to hand out. */
  next: number
  /** Exclusive. */
  readonly end: number
}

/** A single-consumer queue with a high-water mark, between the fetch loop and the reader. */
class Channel {
  readonly #items: BusRecord[] = []
  readonly #capacity: number
  #ended = false
  #failure: { error: unknown } | undefined
  #wakeReader: (() => void) | undefined
  #wakeWriters: Array<() => void> = []
  #lastProgress = Date.now()

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  get lastProgress(): number {
    return this.#lastProgress
  }

  get closed(): boolean {
    return this.#ended || this.#failure !== undefined
  }

  #notifyReader(): void {
    const wake = this.#wakeReader
    this.#wakeReader = undefined
    wake?.()
  }

  #notifyWriters(): void {
    const wake = this.#wakeWriters
    this.#wakeWriters = []
    for (const resolve of wake) resolve()
  }

  /** Adds a record; waits while the buffer is full, calling `heartbeat` to keep the member alive. */
  async push(record: BusRecord, heartbeat: () => Promise<void>): Promise<void> {
    this.#items.push(record)
    this.#lastProgress = Date.now()
    this.#notifyReader()
    while (this.#items.length >= this.#capacity && !this.closed) {
      const keepAlive = setInterval(() => {
        heartbeat().catch(() => {})
      }, 1000)
      try {
        await new Promise<void>((resolve) => this.#wakeWriters.push(resolve))
      } finally {
        clearInterval(keepAlive)
      }
    }
  }

  end(): void {
    this.#ended = true
    this.#notifyReader()
    this.#notifyWriters()
  }

  fail(error: unknown): void {
    this.#failure ??= { error }
    this.#notifyReader()
    this.#notifyWriters()
  }

  /** The next record, `undefined` at the end; waits at most `waitMs` for one ("idle"). Throws once failed. */
  async take(waitMs: number): Promise<BusRecord | undefined | "idle"> {
    for (;;) {
      // A failure wins over buffered records: they cannot be completed.
      if (this.#failure !== undefined) throw this.#failure.error
      const item = this.#items.shift()
      if (item !== undefined) {
        if (this.#items.length < this.#capacity) this.#notifyWriters()
        return item
      }
      if (this.#ended) return undefined
      let timer: ReturnType<typeof setTimeout> | undefined
      const woken = await new Promise<boolean>((resolve) => {
        this.#wakeReader = () => resolve(true)
        timer = setTimeout(() => resolve(false), waitMs)
      })
      clearTimeout(timer)
      if (!woken) return "idle"
    }
  }
}

/**
 * Reads `options.topic` over the range, partition by partition.
 *
 * @example
 * ```ts
 * for await (const record of readRange({ topic: "t", from: "earliest" }, deps)) {
 *   console.log(record.partition, record.offset)
 * }
 * ```
 */
export async function* readRange(options: ReadRangeOptions, deps: ReadDeps): AsyncGenerator<BusRecord> {
  const { topic } = options
  const context = {
    operation: "read",
    brokers: deps.brokers,
    topic,
    ...(deps.principal === undefined ? {} : { principal: deps.principal }),
  }
  const marks = await deps.lookups.watermarks(topic)
  const known = new Set(marks.map((mark) => mark.partition))
  const wanted = [...new Set(options.partitions ?? [...known])].sort((a, b) => a - b)
  for (const partition of wanted) {
    if (!known.has(partition)) {
      throw new KafkaConfigError(`partition ${partition} does not exist on topic ${topic}`, {
        topic,
        partition,
        partitions: [...known],
      })
    }
  }
  const from = await resolvePositions(deps.lookups, topic, wanted, options.from, marks)
  const to = await resolvePositions(deps.lookups, topic, wanted, options.to ?? "latest", marks)
  const ranges: PartitionRange[] = wanted
    .map((partition) => ({ partition, next: from.get(partition)!, end: to.get(partition)! }))
    .filter((range) => range.next < range.end)
  if (ranges.length === 0) return

  const groupId = `${KAFKA_READ_GROUP_PREFIX}${randomUUID()}`
  const channel = new Channel(deps.bufferSize ?? 1000)
  const byPartition = new Map(ranges.map((range) => [range.partition, range]))
  let turn = 0
  const consumer = deps.kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    // A read's range already exists, so a fetch rarely waits; but disconnect
    // waits for the fetch in flight, and that wait is every read's latency.
    maxWaitTimeInMs: Math.min(deps.maxWaitTimeMs, READ_MAX_WAIT_MS),
  })

  const advance = (): void => {
    consumer.pause([{ topic, partitions: [ranges[turn]!.partition] }])
    turn += 1
    const next = ranges[turn]
    if (next === undefined) channel.end()
    else consumer.resume([{ topic, partitions: [next.partition] }])
  }

  const eachBatch = async ({ batch, resolveOffset, heartbeat, pause }: EachBatchPayload): Promise<void> => {
    const range = byPartition.get(batch.partition)
    if (channel.closed) return
    if (range === undefined || range !== ranges[turn]) {
      // Not this partition's turn (or not in the range): nothing is
      // resolved, so it refetches from the same offset once resumed.
      pause()
      return
    }
    for (const message of batch.messages) {
      const offset = Number(message.offset)
      if (offset >= range.end || channel.closed) break
      if (offset >= range.next) {
        await channel.push(toBusRecord(topic, batch.partition, message), heartbeat)
        range.next = offset + 1
      }
      resolveOffset(message.offset)
    }
    if (channel.closed) return
    if (range.next >= range.end || Number(batch.lastOffset()) + 1 >= range.end) advance()
  }

  consumer.on(consumer.events.CRASH, (event) => {
    const error = translateKafkaError(event.payload.error, context)
    if (!event.payload.restart || error instanceof KafkaAuthorizationError) channel.fail(error)
  })

  let released: Promise<void> | undefined
  const release = (): Promise<void> => {
    released ??= (async () => {
      channel.end()
      await consumer.disconnect().catch((error: unknown) => {
        deps.logger.warn("read: disconnect failed", { topic, groupId, error: String(error) })
      })
      await deps.admin.deleteGroups([groupId]).catch((error: unknown) => {
        deps.logger.debug("read: could not delete the throwaway group", { groupId, error: String(error) })
      })
    })()
    return released
  }
  const untrack = deps.track(() => {
    channel.fail(new KafkaClosedError("read"))
    return release()
  })

  try {
    try {
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
    } catch (error) {
      throw translateKafkaError(error, context)
    }
    // run() creates kafkajs's group state synchronously, so pause and seek
    // can be set before the first fetch (admin.setOffsets relies on the same).
    const running = consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch })
    const inRange = new Set(ranges.map((range) => range.partition))
    const idle = [...known].filter((partition) => partition !== ranges[0]!.partition)
    if (idle.length > 0) consumer.pause([{ topic, partitions: idle }])
    for (const range of ranges)
      consumer.seek({ topic, partition: range.partition, offset: String(range.next) })
    deps.logger.debug("read: started", { topic, groupId, partitions: [...inRange] })
    await running

    const idleTimeoutMs = deps.idleTimeoutMs ?? 60_000
    for (;;) {
      const item = await channel.take(1000)
      if (item === undefined) return
      if (item === "idle") {
        if (Date.now() - channel.lastProgress > idleTimeoutMs) {
          throw new KafkaBusError(
            "KAFKA_READ_STALLED",
            `read of ${topic} made no progress for ${idleTimeoutMs} ms`,
            {
              topic,
              groupId,
              brokers: deps.brokers,
              remaining: ranges.slice(turn).map((range) => ({ ...range })),
            },
            "check that the broker is up (`scripts/kafka-local status`) and retry the read",
          )
        }
        continue
      }
      yield item
    }
  } finally {
    untrack()
    await release()
  }
}
