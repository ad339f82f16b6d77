/**
 * Kafka-specific behaviour beyond the contract suite: topic configuration,
 * error translation against a live broker, the throwaway groups of `read`,
 * long handlers outliving the session timeout, and the Effect layer.
 */
import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { type Admin, ConfigResourceTypes, Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Bus, type BusPort, type BusRecord } from "../port.ts"
import { type KafkaBusOptions, openKafkaBus } from "./bus.ts"
import { KafkaClosedError, KafkaNotAssignedError, KafkaTopicNotFoundError } from "./errors.ts"
import { kafkaBrokers } from "./fixtures/brokers.ts"
import { KafkaBusLive } from "./layer.ts"
import { kafkaSecurityFromEnv, toKafkaJS } from "./security.ts"

const options = (overrides: Partial<KafkaBusOptions> = {}): KafkaBusOptions => ({
  brokers: kafkaBrokers(),
  logLevel: "error",
  consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 200 },
  ...overrides,
})

const name = (label: string) => `chorus-test-${label}-${randomUUID()}`
const encode = (text: string) => new TextEncoder().encode(text)

const collectAll = async <A>(items: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const item of items) out.push(item)
  return out
}

/** Polls until `predicate` holds, failing after `timeoutMs` with `what`. */
const waitFor = async (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

let bus: BusPort
let admin: Admin
beforeAll(async () => {
  bus = await openKafkaBus(options())
  // TLS and SASL from CHORUS_KAFKA_*, as the bus takes them, so this file also runs against a secured broker.
  admin = new Kafka({
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
    ...toKafkaJS(kafkaSecurityFromEnv()),
  }).admin()
  await admin.connect()
})
afterAll(async () => {
  await bus?.close()
  await admin?.disconnect()
})

describe("ensureTopics on Kafka", () => {
  it("creates topics with their cleanup policy and retention, and reports existing ones", async () => {
    const compacted = name("compacted")
    const kept = name("kept")
    const specs = [
      { name: compacted, partitions: 2, cleanupPolicy: "compact", retentionMs: 86_400_000 },
      { name: kept, partitions: 1, cleanupPolicy: "delete", retentionMs: -1 },
    ] as const
    expect(await bus.ensureTopics(specs)).toEqual({ created: [compacted, kept], existing: [] })
    expect(await bus.ensureTopics(specs)).toEqual({ created: [], existing: [compacted, kept] })

    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [compacted, kept].map((topic) => ({
        type: ConfigResourceTypes.TOPIC,
        name: topic,
        configNames: ["cleanup.policy", "retention.ms"],
      })),
    })
    const config = (topic: string) =>
      Object.fromEntries(
        described.resources
          .find((resource) => resource.resourceName === topic)!
          .configEntries.map((entry) => [entry.configName, entry.configValue]),
      )
    expect(config(compacted)).toEqual({ "cleanup.policy": "compact", "retention.ms": "86400000" })
    expect(config(kept)).toEqual({ "cleanup.policy": "delete", "retention.ms": "-1" })
  })

  it("rejects an invalid spec before asking the broker", async () => {
    await expect(
      bus.ensureTopics([{ name: "bad name!", partitions: 1, cleanupPolicy: "delete", retentionMs: -1 }]),
    ).rejects.toThrow(/invalid topic name/)
    await expect(
      bus.ensureTopics([{ name: name("zero"), partitions: 0, cleanupPolicy: "delete", retentionMs: -1 }]),
    ).rejects.toThrow(/partitions must be a positive integer/)
  })
})

describe("errors against a live broker", () => {
  it("names a missing topic on publish, subscribe, partitions, watermarks and read", async () => {
    const missing = name("missing")
    const expectMissing = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(KafkaTopicNotFoundError)
      expect((error as KafkaTopicNotFoundError).details).toMatchObject({ topic: missing })
    }
    await expectMissing(bus.publish([{ topic: missing, key: "k", value: encode("x") }]))
    await expectMissing(bus.subscribe({ groupId: name("g"), topics: [missing], handler: async () => {} }))
    await expectMissing(bus.partitions(missing))
    await expectMissing(bus.watermarks(missing))
    await expectMissing(
      (async () => {
        for await (const _record of bus.read({ topic: missing, from: "earliest" })) break
      })(),
    )
  })

  it("refuses a partition that does not exist and a seek on a partition the member does not own", async () => {
    const topic = name("owned")
    await bus.ensureTopics([{ name: topic, partitions: 2, cleanupPolicy: "delete", retentionMs: -1 }])
    await expect(bus.publish([{ topic, key: null, partition: 2, value: encode("x") }])).rejects.toThrow(
      /partition 2 does not exist/,
    )
    const groupId = name("g")
    const first = await bus.subscribe({ groupId, topics: [topic], handler: async () => {} })
    const second = await bus.subscribe({ groupId, topics: [topic], handler: async () => {} })
    await waitFor(
      "one partition each",
      () => first.assignment().length === 1 && second.assignment().length === 1,
    )
    const notMine = second.assignment()[0]!
    await expect(first.seek(topic, notMine.partition, "earliest")).rejects.toBeInstanceOf(
      KafkaNotAssignedError,
    )
    await Promise.all([first.stop(), second.stop()])
  })
})

describe("watermarks on Kafka", () => {
  it("answer every caller with at least what was acknowledged before it asked, while callers share requests", async () => {
    // Given a topic written one record at a time, and callers asking for its watermarks all the while
    const topic = name("watermarks-fresh")
    await bus.ensureTopics([{ name: topic, partitions: 1, cleanupPolicy: "delete", retentionMs: -1 }])
    let acknowledged = 0
    const answers: Array<Promise<{ asked: number; high: number }>> = []
    const ask = () => {
      const asked = acknowledged
      answers.push(bus.watermarks(topic).then((marks) => ({ asked, high: marks[0]!.high })))
    }
    // When each acknowledgement is followed at once by a few callers (they queue behind one another)
    for (let i = 0; i < 30; i++) {
      ask()
      await bus.publish([{ topic, key: "k", value: encode(`${i}`) }])
      acknowledged += 1
      for (let j = 0; j < 3; j++) ask()
    }
    // Then no answer misses a record acknowledged before its caller asked, and the last ones see them all
    const settled = await Promise.all(answers)
    expect(settled.filter((answer) => answer.high < answer.asked)).toEqual([])
    expect(settled.at(-1)!.high).toBe(30)
  })
})

describe("read on Kafka", () => {
  it("deletes its throwaway consumer group, also when the reader stops early", async () => {
    const topic = name("read-groups")
    await bus.ensureTopics([{ name: topic, partitions: 2, cleanupPolicy: "delete", retentionMs: -1 }])
    await bus.publish(Array.from({ length: 20 }, (_, i) => ({ topic, key: `k${i}`, value: encode(`${i}`) })))
    const readGroups = async () =>
      (await admin.listGroups()).groups.filter((group) => group.groupId.startsWith("chorus-read-"))
    const before = (await readGroups()).length

    let count = 0
    for await (const _record of bus.read({ topic, from: "earliest" })) count += 1
    expect(count).toBe(20)
    for await (const _record of bus.read({ topic, from: "earliest" })) break

    expect((await readGroups()).length).toBe(before)
  })

  it("ends a read in progress with KafkaClosedError when its bus closes", async () => {
    const topic = name("read-close")
    await bus.ensureTopics([{ name: topic, partitions: 1, cleanupPolicy: "delete", retentionMs: -1 }])
    await bus.publish(Array.from({ length: 5 }, (_, i) => ({ topic, key: "k", value: encode(`${i}`) })))
    const other = await openKafkaBus(options())
    const reader = other.read({ topic, from: "earliest" })[Symbol.asyncIterator]()
    expect((await reader.next()).value?.offset).toBe(0)
    await other.close()
    await expect(reader.next()).rejects.toBeInstanceOf(KafkaClosedError)
    await expect(collectAll(other.read({ topic, from: "earliest" }))).rejects.toBeInstanceOf(KafkaClosedError)
  })
})

describe("seek during a redelivery backoff", () => {
  it("moves past a failing record and resumes the paused partition", async () => {
    const topic = name("seek-backoff")
    await bus.ensureTopics([{ name: topic, partitions: 1, cleanupPolicy: "delete", retentionMs: -1 }])
    await bus.publish([0, 1, 2].map((i) => ({ topic, key: "k", value: encode(`${i}`) })))
    // A backoff far longer than the test: only the seek can resume the partition.
    const slow = await openKafkaBus(
      options({ consumer: { maxWaitTimeMs: 200, retryInitialMs: 600_000, retryMaxMs: 600_000 } }),
    )
    try {
      const attempts: number[] = []
      const subscription = await slow.subscribe({
        groupId: name("g"),
        topics: [topic],
        handler: async (record) => {
          attempts.push(record.offset)
          if (record.offset === 1) throw new Error("poison")
        },
      })
      await waitFor("the first failure of offset 1", () => attempts.includes(1))
      await subscription.seek(topic, 0, { offset: 2 })
      await waitFor("offset 2 after the seek", () => attempts.includes(2))
      expect(attempts).toEqual([0, 1, 2])
    } finally {
      await slow.close()
    }
  })
})

describe("long handlers", () => {
  it("keep the member in its group past the session timeout, and are handled once", async () => {
    const topic = name("long-handler")
    await bus.ensureTopics([{ name: topic, partitions: 1, cleanupPolicy: "delete", retentionMs: -1 }])
    const groupId = name("g")
    const handled: BusRecord[] = []
    const assignments: number[] = []
    const subscription = await bus.subscribe({
      groupId,
      topics: [topic],
      onAssignment: (assignment) => assignments.push(assignment.length),
      handler: async (record) => {
        handled.push(record)
        // Longer than the 6 s session: only the adapter's heartbeats while
        // the handler runs keep the member in the group.
        if (record.offset === 0) await new Promise((resolve) => setTimeout(resolve, 8000))
      },
    })
    await bus.publish([0, 1].map((i) => ({ topic, key: "k", value: encode(`${i}`) })))
    await waitFor("both records committed", async () => {
      const committed = await bus.committedOffsets(groupId, topic)
      return committed[0]?.offset === 2
    })
    expect(handled.map((record) => record.offset)).toEqual([0, 1])
    expect(assignments).toEqual([1])
    await subscription.stop()
  }, 60_000)
})

describe("batched commits", () => {
  const total = (offsets: ReadonlyArray<{ readonly offset: number }>) =>
    offsets.reduce((sum, entry) => sum + entry.offset, 0)

  it("commit many records in one request, every N records, not one round trip per record", async () => {
    const topic = name("batched")
    await bus.ensureTopics([{ name: topic, partitions: 4, cleanupPolicy: "delete", retentionMs: -1 }])
    // Commits come only from the record count here: the timer never fires within the test.
    const batched = await openKafkaBus(
      options({ consumer: { ...options().consumer, commitEveryRecords: 100, commitIntervalMs: 600_000 } }),
    )
    const groupId = name("g")
    let handled = 0
    try {
      await bus.publish(
        Array.from({ length: 250 }, (_, i) => ({ topic, key: `k${i}`, value: encode(`${i}`) })),
      )
      const subscription = await batched.subscribe({
        groupId,
        topics: [topic],
        handler: async () => {
          handled++
        },
      })
      await waitFor("250 records handled", () => handled === 250)
      await waitFor(
        "two batches of 100 committed",
        async () => total(await bus.committedOffsets(groupId, topic)) === 200,
      )
      // The last 50 are committed on stop, not before.
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(total(await bus.committedOffsets(groupId, topic))).toBe(200)
      await subscription.stop()
      expect(total(await bus.committedOffsets(groupId, topic))).toBe(250)
    } finally {
      await batched.close()
    }
  }, 60_000)

  it("commit what a member handled before its partitions move, so the new member redelivers none of it", async () => {
    const topic = name("revoke")
    await bus.ensureTopics([{ name: topic, partitions: 4, cleanupPolicy: "delete", retentionMs: -1 }])
    const tuning = { ...options().consumer, commitEveryRecords: 1_000_000, commitIntervalMs: 600_000 }
    const first = await openKafkaBus(options({ consumer: tuning }))
    const second = await openKafkaBus(options({ consumer: tuning }))
    const groupId = name("g")
    const handledBy = { first: [] as string[], second: [] as string[] }
    try {
      await bus.publish(
        Array.from({ length: 40 }, (_, i) => ({ topic, key: `k${i}`, value: encode(`${i}`) })),
      )
      const a = await first.subscribe({
        groupId,
        topics: [topic],
        handler: async (record) => {
          handledBy.first.push(`${record.partition}/${record.offset}`)
        },
      })
      await waitFor("the first member handled all 40", () => handledBy.first.length === 40)
      // Nothing is committed yet: neither the count nor the timer was reached.
      expect(total(await bus.committedOffsets(groupId, topic))).toBe(0)
      const b = await second.subscribe({
        groupId,
        topics: [topic],
        handler: async (record) => {
          handledBy.second.push(`${record.partition}/${record.offset}`)
        },
      })
      await waitFor("the partitions split", () => a.assignment().length === 2 && b.assignment().length === 2)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(handledBy.second).toEqual([])
      expect(total(await bus.committedOffsets(groupId, topic))).toBe(40)
      await Promise.all([a.stop(), b.stop()])
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  }, 60_000)
})

describe("KafkaBusLive", () => {
  it("provides the Bus service and closes it with the scope", async () => {
    const topic = name("layer")
    const program = Effect.gen(function* () {
      const port = yield* Bus
      yield* Effect.promise(() =>
        port.ensureTopics([{ name: topic, partitions: 3, cleanupPolicy: "delete", retentionMs: -1 }]),
      )
      const partitions = yield* Effect.promise(() => port.partitions(topic))
      return { kind: port.kind, partitions, port }
    })
    const result = await Effect.runPromise(Effect.provide(program, KafkaBusLive(options())))
    expect({ kind: result.kind, partitions: result.partitions }).toEqual({ kind: "kafka", partitions: 3 })
    await expect(result.port.partitions(topic)).rejects.toThrow(/closed/)
  })

  it("fails to build with the adapter's error when no broker answers", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.provide(
        Bus.use(() => Effect.void),
        KafkaBusLive({ brokers: ["127.0.0.1:1"], connectTimeoutMs: 2000, logLevel: "nothing" }),
      ),
    )
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toContain("KAFKA_UNREACHABLE")
  })
})
