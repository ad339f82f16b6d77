/**
 * The Kafka bus on a 3-broker KRaft cluster (issue 13, part 4): topics get
 * their replication factor from the cluster, not from the bootstrap list, and
 * `min.insync.replicas` 2; a broker SIGKILLed while records are being
 * published loses none of the acknowledged ones and duplicates none.
 *
 * The file starts its own cluster with `scripts/kafka-local start --brokers 3`
 * on free ports and a throw-away node dir, and stops it in `afterAll`; the
 * `kafka` project's shared broker is not used. It needs what the jar broker
 * needs (Java 17+ and Maven) and is skipped, saying so, only without them.
 * Checked against the brokers themselves: a plain kafkajs admin reads the
 * topic metadata and configs, and a plain kafkajs consumer reads every
 * record back.
 */
import { randomUUID } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Admin, ConfigResourceTypes, ConfigSource, Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { missingLocalJarTools, runKafkaLocal } from "../../test/fixtures/kafka.ts"
import type { BusPort, RecordPosition } from "../port.ts"
import { openKafkaBus } from "./bus.ts"

const BROKERS = 3

const missing = await missingLocalJarTools()
const SKIP_REASON =
  missing.length === 0
    ? ""
    : ` (skipped: ${missing.join(", ")} not on PATH; scripts/kafka-local needs Java 17+ and Maven to run the cluster)`

const log = (message: string) => process.stderr.write(`cluster test: ${message}\n`)
const encode = (text: string) => new TextEncoder().encode(text)
const decode = (bytes: Buffer | null) => (bytes === null ? "" : bytes.toString("utf8"))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `scripts/kafka-local` with the cluster's environment. */
const kafkaLocal = runKafkaLocal

const mustRun = async (args: string[], env: NodeJS.ProcessEnv): Promise<string> => {
  const result = await kafkaLocal(args, env)
  if (result.code !== 0) {
    throw new Error(`scripts/kafka-local ${args.join(" ")} exited with ${result.code}:\n${result.output}`)
  }
  return result.output
}

const isPortFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)))
  })

/** A first port of `count` consecutive free ones: the cluster takes 3 client and 3 controller ports. */
const freePortRun = async (count: number): Promise<number> => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 30_000 + 8 * Math.floor(Math.random() * 3_000)
    let free = true
    for (let port = base; free && port < base + count; port++) free = await isPortFree(port)
    if (free) return base
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1`)
}

/** Polls until `check` returns a value (not undefined), failing after `timeoutMs` with `what`. */
const waitFor = async <A>(
  what: string,
  check: () => Promise<A | undefined>,
  timeoutMs: number,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`,
      )
    }
    await sleep(250)
  }
}

/** `request`'s answer, asked again while it fails (a broker not yet aware of a new topic), for up to 15 s. */
const settled = <A>(what: string, request: () => Promise<A>): Promise<A> => waitFor(what, request, 15_000)

describe.skipIf(missing.length > 0)(`the Kafka bus on a 3-broker KRaft cluster${SKIP_REASON}`, () => {
  let env: NodeJS.ProcessEnv
  let nodeDir: string | undefined
  let brokers: string[] = []
  let admin: Admin | undefined
  const buses: BusPort[] = []

  beforeAll(async () => {
    nodeDir = await mkdtemp(join(tmpdir(), "chorus-kafka-cluster-"))
    const base: NodeJS.ProcessEnv = { ...process.env, KAFKA_DATA_DIR: nodeDir }
    // The cluster's own ports (controllers default to KAFKA_PORT+3..+5) and no secured login.
    for (const name of [
      "KAFKA_CONTROLLER_PORT",
      "KAFKA_WATCH_PID",
      "KAFKA_WATCH_REMOVE_DIR",
      "CHORUS_KAFKA_CA",
      "CHORUS_KAFKA_SSL",
      "CHORUS_KAFKA_SASL_USERNAME",
      "CHORUS_KAFKA_SASL_PASSWORD",
    ]) {
      delete base[name]
    }
    const started = Date.now()
    // Ports can be taken between the check and the JVMs binding them: retry on others.
    for (let attempt = 1; ; attempt++) {
      env = { ...base, KAFKA_PORT: String(await freePortRun(2 * BROKERS)) }
      // KAFKA_WATCH_PID: should this process die without afterAll, the script's watchdog stops the cluster.
      const result = await kafkaLocal(["start", "--brokers", String(BROKERS), "--fresh"], {
        ...env,
        KAFKA_WATCH_PID: String(process.pid),
      })
      if (result.code === 0) break
      await kafkaLocal(["stop"], env)
      if (attempt === 3 || !/already in use/.test(result.output)) {
        throw new Error(
          `scripts/kafka-local start --brokers ${BROKERS} failed (exit ${result.code}):\n${result.output}`,
        )
      }
    }
    brokers = (await mustRun(["brokers"], env)).trim().split(",")
    log(`cluster ${brokers.join(",")} up in ${Date.now() - started} ms (node dir ${nodeDir})`)
    admin = new Kafka({ clientId: "cluster-test", brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
  })

  afterAll(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()))
    await admin?.disconnect().catch(() => undefined)
    try {
      if (env !== undefined) {
        const stopped = await kafkaLocal(["stop"], env)
        if (stopped.code !== 0)
          log(`scripts/kafka-local stop exited with ${stopped.code}:\n${stopped.output}`)
      }
    } finally {
      if (nodeDir !== undefined) await rm(nodeDir, { recursive: true, force: true })
    }
  })

  const openBus = async (bootstrap: string[]): Promise<BusPort> => {
    // security {}: PLAINTEXT whatever CHORUS_KAFKA_* says (the cluster has no TLS).
    const bus = await openKafkaBus({
      brokers: bootstrap,
      security: {},
      logLevel: "error",
      clientId: "cluster-test",
    })
    buses.push(bus)
    return bus
  }

  it("scripts/kafka-local lists and reports the three brokers", async () => {
    const port = Number(env.KAFKA_PORT)
    expect(brokers).toEqual([0, 1, 2].map((i) => `127.0.0.1:${port + i}`))
    const status = await mustRun(["status"], env)
    expect(status).toMatch(/^running: .*3 of 3 nodes running/m)
    const described = await admin!.describeCluster()
    expect(described.brokers.map((broker) => broker.nodeId).sort()).toEqual([1, 2, 3])
  })

  it("ensureTopics creates topics with 3 replicas and min.insync.replicas 2, bootstrapped through one broker", async () => {
    // Broker 2 alone: the replication factor must come from the cluster, not from this list.
    const bus = await openBus([brokers[1]!])
    const specs = [
      {
        name: `chorus-cluster-events-${randomUUID()}`,
        partitions: 4,
        cleanupPolicy: "delete",
        retentionMs: -1,
      },
      {
        name: `chorus-cluster-state-${randomUUID()}`,
        partitions: 2,
        cleanupPolicy: "compact",
        retentionMs: -1,
      },
    ] as const
    const names = specs.map((spec) => spec.name)
    expect(await bus.ensureTopics(specs)).toEqual({ created: names, existing: [] })

    // Asked of any broker, which may learn of a new topic a moment after the one that answered ensureTopics.
    const { topics } = await settled("the topics' metadata", () =>
      admin!.fetchTopicMetadata({ topics: names }),
    )
    for (const spec of specs) {
      const partitions = topics.find((topic) => topic.name === spec.name)!.partitions
      expect(partitions).toHaveLength(spec.partitions)
      for (const partition of partitions) {
        expect([...partition.replicas].sort()).toEqual([1, 2, 3])
      }
    }
    const described = await settled("the topics' configs", () =>
      admin!.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ["min.insync.replicas", "cleanup.policy"],
        })),
      }),
    )
    for (const spec of specs) {
      const entries = described.resources.find(
        (resource) => resource.resourceName === spec.name,
      )!.configEntries
      const minIsr = entries.find((entry) => entry.configName === "min.insync.replicas")!
      // Set on the topic itself, not inherited from the brokers' own min.insync.replicas=2.
      expect({ value: minIsr.configValue, source: minIsr.configSource }).toEqual({
        value: "2",
        source: ConfigSource.TOPIC_CONFIG,
      })
      expect(entries.find((entry) => entry.configName === "cleanup.policy")?.configValue).toBe(
        spec.cleanupPolicy,
      )
    }
  })

  it("loses and duplicates no acknowledged record when a partition leader is SIGKILLed mid-publish", async () => {
    const bus = await openBus(brokers)
    const topic = `chorus-cluster-kill-${randomUUID()}`
    const partitions = 6
    await bus.ensureTopics([{ name: topic, partitions, cleanupPolicy: "delete", retentionMs: -1 }])

    // The victim: the broker leading the most partitions of the topic.
    const before = (
      await settled("the topic's metadata", () => admin!.fetchTopicMetadata({ topics: [topic] }))
    ).topics[0]!.partitions
    const led = new Map<number, number[]>()
    for (const partition of before)
      led.set(partition.leader, [...(led.get(partition.leader) ?? []), partition.partitionId])
    const [victim, victimPartitions] = [...led].sort((a, b) => b[1].length - a[1].length)[0]!
    expect(victimPartitions.length).toBeGreaterThan(0)

    // One publisher, batches of 20 keyed records over every partition: its order is the order
    // each partition must show. Each record carries its sequence number.
    //
    // A publish may fail during the failover, with kafkajs 2.2.4 under the bus: a send whose
    // partition's leader moves to a broker that already answered that send leaves the partition
    // out (the bus then refuses to acknowledge the publish), and a batch the killed leader
    // stored but never acknowledged can leave the idempotent producer's sequence behind the
    // broker's, after which every publish to that partition fails (OUT_OF_ORDER_SEQUENCE_NUMBER).
    // What is checked is what the bus promises: an acknowledged record is stored, once, where it
    // was acknowledged; an unacknowledged one at most once. The bus replaces its producer after
    // either failure (a new producer id starts its sequences afresh), so publishing recovers by
    // itself: five failed publishes in a row fail the test.
    const acked = new Map<number, RecordPosition>()
    const unacknowledged: number[] = []
    const failures = new Map<string, number>()
    let failingInARow = 0
    let next = 0
    let slowestPublishMs = 0
    const publishBatch = async () => {
      const seqs = Array.from({ length: 20 }, (_, i) => next + i)
      next += seqs.length
      const started = Date.now()
      try {
        const positions = await bus.publish(
          seqs.map((seq) => ({ topic, key: `key-${seq % 97}`, value: encode(`${seq}`) })),
        )
        positions.forEach((position, i) => {
          acked.set(seqs[i]!, position)
        })
        failingInARow = 0
      } catch (error) {
        unacknowledged.push(...seqs)
        const message = error instanceof Error ? error.message : String(error)
        failures.set(message, (failures.get(message) ?? 0) + 1)
        log(`publish of records ${seqs[0]}..${seqs.at(-1)} failed: ${message}`)
        // The bus must recover by itself (a new producer after a broken sequence), not by a restart.
        if (++failingInARow >= 5)
          throw new Error(`${failingInARow} publishes in a row failed: the bus did not recover`)
        await sleep(100)
      }
      slowestPublishMs = Math.max(slowestPublishMs, Date.now() - started)
    }
    /** Publishes until `done()` holds, with `during` running alongside; fails past 60 s. */
    const publishWhile = async <A>(during: Promise<A>, done: (settled: boolean) => boolean): Promise<A> => {
      let settled = false
      const running = during.finally(() => {
        settled = true
      })
      running.catch(() => undefined)
      const deadline = Date.now() + 60_000
      while (!done(settled)) {
        if (Date.now() > deadline) {
          throw new Error(
            `publishing made no headway for 60 s: ${acked.size} of ${next} records acknowledged, ` +
              `failures: ${JSON.stringify(Object.fromEntries(failures))}`,
          )
        }
        await publishBatch()
        // Leaves CPU to the brokers (two cores run three JVMs and this test).
        await sleep(5)
      }
      return running
    }

    const runStarted = Date.now()
    await publishWhile(Promise.resolve(), () => acked.size >= 600)
    const ackedBeforeKill = acked.size

    // SIGKILL the leader while the publisher goes on, and keep publishing through the failover.
    const killedAt = Date.now()
    const killing = mustRun(["kill-broker", String(victim)], env)
    await publishWhile(killing, (settled) => settled && acked.size >= ackedBeforeKill + 600)
    const leadersAfterKill = await waitFor(
      `new leaders for the partitions broker ${victim} led`,
      async () => {
        const now = (await admin!.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions
        return now.every((partition) => partition.leader !== victim && partition.leader >= 0)
          ? now
          : undefined
      },
      30_000,
    )
    await publishBatch()
    const ackedWhileDown = acked.size - ackedBeforeKill
    expect(leadersAfterKill.every((partition) => partition.isr.length === BROKERS - 1)).toBe(true)

    // Bring it back (its data kept) while still publishing, then wait until it is in sync again.
    const restarting = mustRun(["start-broker", String(victim)], env)
    await publishWhile(restarting, (settled) => settled)
    await publishBatch()
    await waitFor(
      `broker ${victim} back in every ISR`,
      async () => {
        const now = (await admin!.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions
        return now.every((partition) => partition.isr.length === BROKERS) ? true : undefined
      },
      60_000,
    )
    const published = next
    const publishMs = Date.now() - runStarted

    // Ground truth: every record on the topic, read by a plain kafkajs consumer.
    const offsets = await admin!.fetchTopicOffsets(topic)
    const high = new Map(offsets.map((entry) => [entry.partition, Number(entry.high)]))
    const total = [...high.values()].reduce((sum, value) => sum + value, 0)
    const stored = new Map<number, { offset: number; seq: number }[]>()
    const consumer = new Kafka({
      clientId: "cluster-test-reader",
      brokers,
      logLevel: logLevel.NOTHING,
    }).consumer({
      groupId: `cluster-test-${randomUUID()}`,
      maxWaitTimeInMs: 200,
    })
    let read = 0
    try {
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const records = stored.get(partition) ?? []
          records.push({ offset: Number(message.offset), seq: Number(decode(message.value)) })
          stored.set(partition, records)
          read += 1
        },
      })
      await waitFor(`all ${total} records read back`, async () => (read >= total ? true : undefined), 60_000)
    } finally {
      await consumer.disconnect()
    }

    expect(read).toBe(total)
    const copies = new Map<number, number>()
    const where = new Map<number, RecordPosition>()
    for (const [partition, records] of stored) {
      // In order per partition, offsets dense from 0: the publisher's order, nothing in between.
      expect(records.map((record) => record.offset)).toEqual(records.map((_, i) => i))
      const seqs = records.map((record) => record.seq)
      expect(seqs, `partition ${partition} out of publish order`).toEqual([...seqs].sort((a, b) => a - b))
      for (const record of records) {
        copies.set(record.seq, (copies.get(record.seq) ?? 0) + 1)
        where.set(record.seq, { topic, partition, offset: record.offset })
      }
    }
    const duplicated = [...copies].filter(([, count]) => count > 1).map(([seq]) => seq)
    const stranded = unacknowledged.filter((seq) => copies.has(seq)).length
    const lost: number[] = []
    const misplaced: number[] = []
    for (const [seq, position] of acked) {
      const found = where.get(seq)
      if (found === undefined) lost.push(seq)
      else if (found.partition !== position.partition || found.offset !== position.offset) misplaced.push(seq)
    }
    log(
      `${published} records in ${publishMs} ms, broker ${victim} (leader of partitions ${victimPartitions.join(",")}) ` +
        `SIGKILLed after ${ackedBeforeKill} acknowledged, ${ackedWhileDown} acknowledged with it down, back after ` +
        `${Date.now() - killedAt} ms; slowest publish ${slowestPublishMs} ms; read back ${read}: ` +
        `${acked.size} acknowledged, ${lost.length} lost, ${duplicated.length} duplicated, ${misplaced.length} ` +
        `not at their acknowledged offset, ${unacknowledged.length} unacknowledged (${stranded} of them stored), ` +
        `failures: ${JSON.stringify(Object.fromEntries(failures))}`,
    )
    expect({ lost, duplicated, misplaced }).toEqual({ lost: [], duplicated: [], misplaced: [] })
    expect(acked.size + unacknowledged.length).toBe(published)
    // Publishing went on with the broker down, and nothing but published records is stored.
    expect(ackedWhileDown).toBeGreaterThan(0)
    expect([...copies.keys()].every((seq) => seq >= 0 && seq < published)).toBe(true)
  }, 180_000)
})
