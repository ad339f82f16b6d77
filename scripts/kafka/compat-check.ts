/**
 * kafkajs ↔ broker compatibility check: exercises every Kafka API the bus
 * adapter relies on against a running broker, and reports each step.
 *
 * This is how the Kafka version pinned in `scripts/kafka-local` was chosen;
 * re-run it before bumping that pin:
 *
 *   KAFKA_VERSION=4.1.1 KAFKA_PORT=29092 scripts/kafka-local start --fresh
 *   node_modules/.bin/node scripts/kafka/compat-check.ts --brokers 127.0.0.1:29092
 *   KAFKA_VERSION=4.1.1 KAFKA_PORT=29092 scripts/kafka-local stop
 *
 * Exit code 0 when every step passed, 1 otherwise.
 */
import { randomUUID } from "node:crypto"
import { createRequire } from "node:module"
import { Socket } from "node:net"
import { parseArgs } from "node:util"
import { type Consumer, type EachMessagePayload, Kafka, logLevel } from "kafkajs"
import { kafkaSecurityFromEnv, toKafkaJS } from "../../bus/kafka/security.ts"

const { values } = parseArgs({
  options: { brokers: { type: "string", default: "127.0.0.1:9092" }, verbose: { type: "boolean" } },
})
const brokers = values.brokers.split(",")
const kafka = new Kafka({
  clientId: "chorus-compat-check",
  brokers,
  logLevel: values.verbose ? logLevel.INFO : logLevel.NOTHING,
  retry: { retries: 3 },
  // TLS and SASL from CHORUS_KAFKA_*, as every Chorus client.
  ...toKafkaJS(kafkaSecurityFromEnv()),
})

const run = randomUUID().slice(0, 8)
const topic = `compat-${run}`
const txTopic = `compat-tx-${run}`
const group = `compat-group-${run}`

interface Step {
  readonly name: string
  readonly fn: () => Promise<string | undefined>
}
const steps: Step[] = []
const step = (name: string, fn: () => Promise<string | undefined>) => steps.push({ name, fn })

function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Runs `member` until its `eachMessage` calls `done`, or fails after `ms`.
 * `afterRun` runs right after `run()`, where kafkajs wants a `seek`.
 */
function consumeUntil(
  what: string,
  ms: number,
  member: Consumer,
  options: { readonly autoCommit?: boolean; readonly afterRun?: () => void },
  eachMessage: (payload: EachMessagePayload, done: () => void) => Promise<void>,
): Promise<void> {
  return withTimeout(
    what,
    ms,
    new Promise<void>((resolve) => {
      void member.run({
        ...(options.autoCommit === undefined ? {} : { autoCommit: options.autoCommit }),
        eachMessage: (payload) => eachMessage(payload, resolve),
      })
      options.afterRun?.()
    }),
  )
}

/** Asks the broker for its supported [min, max] version of every API with a hand-written ApiVersions v0 request. */
function brokerApiVersions(address: string): Promise<Map<number, [number, number]>> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    Number(address.slice(address.lastIndexOf(":") + 1)),
  ]
  const clientId = Buffer.from("chorus-compat-check")
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length)
  body.writeInt16BE(18, 0) // api_key ApiVersions
  body.writeInt16BE(0, 2) // api_version 0: every broker since 0.10 answers it
  body.writeInt32BE(1, 4) // correlation id
  body.writeInt16BE(clientId.length, 8)
  clientId.copy(body, 10)
  const frame = Buffer.alloc(4)
  frame.writeInt32BE(body.length, 0)
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let received = Buffer.alloc(0)
    socket.setTimeout(5_000, () => socket.destroy(new Error("ApiVersions request timed out")))
    socket.on("error", reject)
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return
      socket.end()
      const errorCode = received.readInt16BE(8)
      if (errorCode !== 0) return reject(new Error(`ApiVersions error code ${errorCode}`))
      const count = received.readInt32BE(10)
      const result = new Map<number, [number, number]>()
      for (let i = 0, at = 14; i < count; i++, at += 6) {
        result.set(received.readInt16BE(at), [received.readInt16BE(at + 2), received.readInt16BE(at + 4)])
      }
      resolve(result)
    })
    socket.connect(port, host, () => socket.write(Buffer.concat([frame, body])))
  })
}

step("protocol: every API kafkajs implements overlaps the broker's versions", async () => {
  // kafkajs picks min(its max, broker max) and never checks the broker's
  // minimum, so an API whose broker minimum is above kafkajs' maximum (what
  // KIP-896 did to old versions in Kafka 4.0) would fail at call time.
  const require = createRequire(import.meta.url)
  const { requests } = require("kafkajs/src/protocol/requests/index.js") as {
    requests: Record<string, { versions: string[] }>
  }
  const apiKeys = require("kafkajs/src/protocol/requests/apiKeys.js") as Record<string, number>
  const broker = await brokerApiVersions(brokers[0]!)
  const used: string[] = []
  const broken: string[] = []
  for (const [name, definition] of Object.entries(requests)) {
    if (definition.versions.length === 0) continue
    const key = apiKeys[name]!
    const ours = definition.versions.map(Number)
    const theirs = broker.get(key)
    if (theirs === undefined) {
      broken.push(`${name} (broker does not offer it)`)
      continue
    }
    const chosen = Math.min(Math.max(...ours), theirs[1])
    if (chosen < theirs[0] || !ours.includes(chosen))
      broken.push(`${name} kafkajs v${ours.join(",")} vs broker v${theirs[0]}-${theirs[1]}`)
    else used.push(`${name}=v${chosen}`)
  }
  if (broken.length > 0) throw new Error(`no usable version for: ${broken.join("; ")}`)
  return `negotiated ${used.join(" ")}`
})

// Created up front (creating does not connect) so the final clean-up can
// disconnect whatever a failed step left behind.
const admin = kafka.admin()
const producer = kafka.producer()
const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1_000 })

step("admin connect + describeCluster", async () => {
  await admin.connect()
  const c = await admin.describeCluster()
  return `cluster ${c.clusterId}, controller ${c.controller}`
})
step("admin.createTopics (3 partitions)", async () => {
  const created = await admin.createTopics({
    topics: [
      { topic, numPartitions: 3, replicationFactor: 1 },
      { topic: txTopic, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  })
  return `created=${created}`
})
step(
  "admin.createTopics again is a no-op",
  async () => `created=${await admin.createTopics({ topics: [{ topic }] })}`,
)
step("admin.fetchTopicMetadata", async () => {
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  return `${md.topics[0]?.partitions.length} partitions`
})
step("admin.createTopics with compaction config", async () => {
  await admin.createTopics({
    topics: [{ topic: `${topic}-compacted`, configEntries: [{ name: "cleanup.policy", value: "compact" }] }],
  })
  const cfg = await admin.describeConfigs({
    resources: [{ type: 2 /* TOPIC */, name: `${topic}-compacted`, configNames: ["cleanup.policy"] }],
    includeSynonyms: false,
  })
  return `cleanup.policy=${cfg.resources[0]?.configEntries[0]?.configValue}`
})
step("plain producer send (keys, headers, acks=-1)", async () => {
  await producer.connect()
  const res = await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: 30 }, (_, i) => ({
      key: `k${i % 5}`,
      value: `v${i}`,
      headers: { "x-seq": String(i) },
    })),
  })
  return `${res.length} partition acks`
})
step("idempotent producer send", async () => {
  await idempotent.connect()
  const res = await idempotent.send({ topic, messages: [{ key: "idem", value: "once" }] })
  return `baseOffset=${res[0]?.baseOffset} producerId obtained`
})
step("consumer group join + consume all + headers", async () => {
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let seen = 0
  let headerOk = false
  await consumeUntil(
    "consuming 31 messages",
    30_000,
    consumer,
    { autoCommit: false },
    async ({ message, partition }, done) => {
      seen++
      if (message.headers?.["x-seq"] !== undefined) headerOk = true
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }])
      if (seen === 31) done()
    },
  )
  return `consumed ${seen}, headers ${headerOk ? "ok" : "MISSING"}`
})
step("manual commitOffsets visible via admin.fetchOffsets", async () => {
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] })
  const total = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0)
  if (total !== 31) throw new Error(`committed offsets sum to ${total}, expected 31`)
  return `committed sum=${total}`
})
step("admin.describeGroups + listGroups", async () => {
  const d = await admin.describeGroups([group])
  const l = await admin.listGroups()
  return `state=${d.groups[0]?.state}, members=${d.groups[0]?.members.length}, listed=${l.groups.some((g) => g.groupId === group)}`
})
step("consumer.seek after run()", async () => {
  let got: string | undefined
  await consumer.stop()
  // seek must follow run(); offsets are per partition, so rewind all three.
  const rewind = () => {
    for (const partition of [0, 1, 2]) consumer.seek({ topic, partition, offset: "0" })
  }
  await consumeUntil(
    "re-reading after seek",
    20_000,
    consumer,
    { autoCommit: false, afterRun: rewind },
    async ({ message }, done) => {
      got = message.offset
      done()
    },
  )
  return `re-read offset ${got}`
})
step("consumer disconnect (leave group)", async () => {
  await consumer.disconnect()
  return undefined
})
step("admin.setOffsets with no running members + resetOffsets", async () => {
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "1" }] })
  await admin.resetOffsets({ groupId: group, topic, earliest: true })
  return "ok"
})
step("admin.fetchTopicOffsets + fetchTopicOffsetsByTimestamp", async () => {
  const latest = await admin.fetchTopicOffsets(topic)
  const byTs = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60_000)
  return `high=${latest.map((p) => p.high).join("/")}, byTs=${byTs.map((p) => p.offset).join("/")}`
})
step("transactional producer: send + sendOffsets + commit", async () => {
  const tx = kafka.producer({ transactionalId: `compat-tx-${run}`, idempotent: true, maxInFlightRequests: 1 })
  await tx.connect()
  try {
    const t = await tx.transaction()
    await t.send({ topic: txTopic, messages: [{ key: "a", value: "tx" }] })
    await t.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic, partitions: [{ partition: 0, offset: "2" }] }],
    })
    await t.commit()
    const t2 = await tx.transaction()
    await t2.send({ topic: txTopic, messages: [{ key: "b", value: "aborted" }] })
    await t2.abort()
  } finally {
    await tx.disconnect()
  }
  return "committed one, aborted one"
})
step("read_committed consumer sees only committed tx record", async () => {
  const c = kafka.consumer({ groupId: `${group}-rc`, readUncommitted: false })
  await c.connect()
  await c.subscribe({ topic: txTopic, fromBeginning: true })
  const values: string[] = []
  try {
    await consumeUntil("reading the committed transaction", 20_000, c, {}, async ({ message }, done) => {
      values.push(String(message.value))
      done()
    })
    // Give an aborted record (which must not appear) a chance to show up.
    await new Promise((r) => setTimeout(r, 1_000))
  } finally {
    await c.disconnect()
  }
  if (values.includes("aborted")) throw new Error("read_committed consumer saw an aborted record")
  return `values=${JSON.stringify(values)}`
})
step("admin.deleteTopics + deleteGroups", async () => {
  await admin.deleteGroups([group, `${group}-rc`])
  await admin.deleteTopics({ topics: [topic, txTopic, `${topic}-compacted`] })
  return "ok"
})

let failed = 0
for (const { name, fn } of steps) {
  const t0 = Date.now()
  try {
    const detail = await fn()
    console.log(`PASS ${name} (${Date.now() - t0} ms)${detail ? ` — ${detail}` : ""}`)
  } catch (error) {
    failed++
    const e = error as Error & { type?: string }
    console.log(`FAIL ${name} (${Date.now() - t0} ms) — ${e.name}${e.type ? `/${e.type}` : ""}: ${e.message}`)
  }
}
await Promise.allSettled([
  producer.disconnect(),
  idempotent.disconnect(),
  consumer.disconnect(),
  admin.disconnect(),
])
console.log(`${steps.length - failed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
