/**
 * The bus side by side (issue 13): `npm run bench:bus [-- --records 100000 --size 480 --partitions 8
 * --rounds 3 --brokers host:port --json]`. Ends with one JSON line of its figures.
 *
 * Three paths run in one process, one after another, on one broker, so the ratios compare like with like:
 * - raw kafkajs: an idempotent producer (acks=all, `sendBatch` of 1,000 records), and a consumer group with
 *   `eachBatch` (kafkajs's own auto-commit): the engine's speed on this machine;
 * - the Chorus Kafka adapter: `publish` of 1,000 records; `subscribe`, whose handler resolves at once, so
 *   what is measured is the adapter (delivery, commits), not a service;
 * - the embedded log, the same way, in a temporary directory.
 * Each path also publishes the same records one per `publish` call from 64 concurrent callers, as services
 * do (each handler publishes its own outputs). Consume is timed from the first record delivered to the last
 * handled, on every path alike (the group's join is not the engine's speed), `--rounds` times (3) by as many
 * groups, and the median is kept: one round on a shared 2-core machine swings by 2×; `adapterCommitLagMs` says how much later the adapter had every offset committed.
 *
 * Without `--brokers` the bench starts its own single-node broker with `scripts/kafka-local` and stops it at
 * the end. Goals (issue 13): `produceRatio` and `consumeRatio` ≥ 0.5; the embedded log ≥ 100,000 msg/s both ways.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Kafka, logLevel, Partitioners } from "kafkajs"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { openKafkaBus } from "../bus/kafka/index.ts"
import type { BusPort, OutgoingRecord } from "../bus/port.ts"
import { announce } from "./announce.ts"
import { startLocalBroker } from "./chaos/kafka-broker.ts"
import { positiveFlag } from "./positive-flag.ts"

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    size: { type: "string", default: "480" },
    partitions: { type: "string", default: "8" },
    brokers: { type: "string" },
    rounds: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
  },
})
announce(
  "bench:bus",
  "starts its own Kafka broker, then times raw kafkajs, the Chorus Kafka adapter and the embedded log",
  "about 2 to 3 minutes",
)
const positive = (name: string, raw: string) => positiveFlag("bench:bus", name, raw)
const RECORDS = positive("records", values.records)
const SIZE = positive("size", values.size)
const PARTITIONS = positive("partitions", values.partitions)
const ROUNDS = positive("rounds", values.rounds)
const BATCH = 1000
const CONCURRENT = 64
const SINGLE = Math.min(RECORDS, 20_000)
const RUN = `bench-bus-${process.pid}-${Date.now()}`
const log = (line: string) => process.stderr.write(`${line}\n`)

const payload = new Uint8Array(SIZE).fill(7)
const recordsFor = (topic: string, count: number): OutgoingRecord[] =>
  Array.from({ length: count }, (_, i) => ({ topic, key: `lane-${i % 997}`, value: payload }))

const rate = (count: number, ms: number) => Math.round((count * 1000) / ms)
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Publishes in batches, then one record per call from concurrent callers; msg/s of each. */
const produce = async (
  send: (records: OutgoingRecord[]) => Promise<unknown>,
  topic: string,
  singleTopic: string,
): Promise<{ batched: number; single: number }> => {
  const records = recordsFor(topic, RECORDS)
  let started = performance.now()
  for (let i = 0; i < records.length; i += BATCH) await send(records.slice(i, i + BATCH))
  const batched = rate(RECORDS, performance.now() - started)
  const singles = recordsFor(singleTopic, SINGLE)
  let next = 0
  started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      while (next < singles.length) await send([singles[next++]!])
    }),
  )
  return { batched, single: rate(SINGLE, performance.now() - started) }
}

/**
 * Consumes a topic of RECORDS records through the port: msg/s until every record was handled (as raw kafkajs is
 * timed), and how much later every offset was committed.
 */
const consumeThroughPort = async (
  bus: BusPort,
  topic: string,
  round: number,
): Promise<{ msgPerS: number; commitLagMs: number }> => {
  const groupId = `${topic}.group-${round}`
  let handled = 0
  const allHandled = Promise.withResolvers<number>()
  let started = 0
  const subscription = await bus.subscribe({
    groupId,
    topics: [topic],
    handler: async () => {
      if (handled === 0) started = performance.now()
      handled++
      if (handled === RECORDS) allHandled.resolve(performance.now())
    },
  })
  const handledAt = await allHandled.promise
  for (;;) {
    const committed = await bus.committedOffsets(groupId, topic)
    const total = committed.reduce((sum, entry) => sum + entry.offset, 0)
    if (total >= RECORDS) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const commitLagMs = Math.round(performance.now() - handledAt)
  await subscription.stop()
  return { msgPerS: rate(RECORDS, handledAt - started), commitLagMs }
}

const topicSpec = (name: string) => ({
  name,
  partitions: PARTITIONS,
  cleanupPolicy: "delete" as const,
  retentionMs: -1,
})

const rawKafka = async (brokers: ReadonlyArray<string>) => {
  const kafka = new Kafka({ clientId: "bench-raw", brokers: [...brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const topic = `${RUN}.raw`
  await admin.createTopics({
    topics: [topic, `${topic}.single`].map((name) => ({ topic: name, numPartitions: PARTITIONS })),
    waitForLeaders: true,
  })
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  const produced = await produce(
    (records) =>
      producer.sendBatch({
        acks: -1,
        topicMessages: [
          {
            topic: records[0]!.topic,
            messages: records.map((r) => ({ key: r.key, value: Buffer.from(r.value) })),
          },
        ],
      }),
    topic,
    `${topic}.single`,
  )
  const consumeRound = async (round: number) => {
    const consumer = kafka.consumer({ groupId: `${topic}.group-${round}`, maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    let handled = 0
    const done = Promise.withResolvers<void>()
    let started = 0
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (handled === 0) started = performance.now()
        handled += batch.messages.length
        if (handled >= RECORDS) done.resolve()
      },
    })
    await done.promise
    const msgPerS = rate(RECORDS, performance.now() - started)
    await consumer.disconnect()
    return msgPerS
  }
  const rounds = []
  for (let round = 0; round < ROUNDS; round++) rounds.push(await consumeRound(round))
  const consumed = median(rounds)
  await producer.disconnect()
  await admin.deleteTopics({ topics: [topic, `${topic}.single`] }).catch(() => undefined)
  await admin.disconnect()
  return { produce: produced.batched, produceSingle: produced.single, consume: consumed }
}

const throughPort = async (bus: BusPort, topic: string) => {
  await bus.ensureTopics([topicSpec(topic), topicSpec(`${topic}.single`)])
  const produced = await produce((records) => bus.publish(records), topic, `${topic}.single`)
  const rounds = []
  for (let round = 0; round < ROUNDS; round++) rounds.push(await consumeThroughPort(bus, topic, round))
  return {
    produce: produced.batched,
    produceSingle: produced.single,
    consume: median(rounds.map((r) => r.msgPerS)),
    commitLagMs: Math.max(...rounds.map((r) => r.commitLagMs)),
  }
}

const main = async () => {
  const workDir = mkdtempSync(join(tmpdir(), "chorus-bench-bus-"))
  if (values.brokers === undefined) log("starting a single-node Kafka broker (scripts/kafka-local)…")
  const broker =
    values.brokers === undefined
      ? await startLocalBroker(join(workDir, "kafka"), join(workDir, "kafka.log"))
      : undefined
  const brokers = values.brokers?.split(",") ?? broker!.brokers
  try {
    log(`${RECORDS} records of ${SIZE} B on ${PARTITIONS} partitions, broker ${brokers.join(",")}`)
    const raw = await rawKafka(brokers)
    log(
      `raw kafkajs:          produce ${raw.produce} msg/s (single ${raw.produceSingle}), consume ${raw.consume} msg/s`,
    )
    const kafkaBus = await openKafkaBus({ brokers, logLevel: "nothing", consumer: { maxWaitTimeMs: 100 } })
    const adapter = await throughPort(kafkaBus, `${RUN}.adapter`).finally(() => kafkaBus.close())
    log(
      `Chorus Kafka adapter: produce ${adapter.produce} msg/s (single ${adapter.produceSingle}), consume ${adapter.consume} msg/s`,
    )
    const embeddedBus = await openEmbeddedBus({ dataDir: join(workDir, "embedded"), serve: false })
    const embedded = await throughPort(embeddedBus, `${RUN}.embedded`).finally(() => embeddedBus.close())
    log(
      `embedded log:         produce ${embedded.produce} msg/s (single ${embedded.produceSingle}), consume ${embedded.consume} msg/s`,
    )
    const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000
    const figures = {
      records: RECORDS,
      size: SIZE,
      partitions: PARTITIONS,
      rawProduceMsgPerS: raw.produce,
      rawConsumeMsgPerS: raw.consume,
      rawProduceSingleMsgPerS: raw.produceSingle,
      adapterProduceMsgPerS: adapter.produce,
      adapterConsumeMsgPerS: adapter.consume,
      adapterProduceSingleMsgPerS: adapter.produceSingle,
      adapterCommitLagMs: adapter.commitLagMs,
      embeddedProduceMsgPerS: embedded.produce,
      embeddedConsumeMsgPerS: embedded.consume,
      embeddedProduceSingleMsgPerS: embedded.produceSingle,
      produceRatio: ratio(adapter.produce, raw.produce),
      consumeRatio: ratio(adapter.consume, raw.consume),
      produceSingleRatio: ratio(adapter.produceSingle, raw.produceSingle),
    }
    if (!values.json) {
      log(`adapter ÷ raw: produce ${figures.produceRatio}, consume ${figures.consumeRatio} (goal ≥ 0.5 each)`)
    }
    console.log(JSON.stringify(figures))
  } finally {
    await broker?.release()
    rmSync(workDir, { recursive: true, force: true })
  }
}

await main()
