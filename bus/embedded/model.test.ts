/**
 * The embedded log against a plain in-memory model, over random runs of
 * publishes, reopenings, crashes and torn tails: what reads back, the
 * watermarks and timestamp look-ups must always match the model.
 */
import { appendFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { partitionForKey } from "../partitioner/index.ts"
import type { BusRecord } from "../port.ts"
import { type EmbeddedBus, type EmbeddedBusLogger, openEmbeddedBus } from "./index.ts"

const TOPICS = { a: 1, b: 3 } as const
type TopicName = keyof typeof TOPICS

interface ModelRecord {
  readonly key: string | null
  readonly value: number[]
  readonly timestamp: number
  readonly headers: Record<string, string>
}

const outgoing = fc.record({
  topic: fc.constantFrom<TopicName>("a", "b"),
  key: fc.option(fc.constantFrom("k1", "k2", "k3", "κ", ""), { nil: null }),
  value: fc.uint8Array({ maxLength: 40 }),
  timestamp: fc.integer({ min: 0, max: 50 }),
  headers: fc.dictionary(fc.constantFrom("h1", "h2"), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  partition: fc.option(fc.nat({ max: 2 }), { nil: undefined }),
})

const operation = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("publish" as const),
      batch: fc.array(outgoing, { minLength: 1, maxLength: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reopen" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("crash" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("torn" as const),
      topic: fc.constantFrom<TopicName>("a", "b"),
      partition: fc.nat({ max: 2 }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 30 }),
    }),
  },
)

const quiet: EmbeddedBusLogger = { warn: () => {}, error: () => {} }

describe("embedded log against a model", () => {
  it("reads back exactly what was acknowledged, through reopenings, crashes and torn tails", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
        const dataDir = await mkdtemp(join(tmpdir(), "chorus-bus-model-"))
        let bus: EmbeddedBus = await openEmbeddedBus({ dataDir, logger: quiet })
        try {
          await bus.ensureTopics(
            Object.entries(TOPICS).map(([name, partitions]) => ({
              name,
              partitions,
              cleanupPolicy: "delete" as const,
              retentionMs: -1,
            })),
          )
          const model = new Map<string, ModelRecord[]>()
          const logOf = (topic: string, partition: number) => {
            const key = `${topic}/${partition}`
            if (!model.has(key)) model.set(key, [])
            return model.get(key)!
          }
          for (const step of operations) {
            if (step.op === "publish") {
              const batch = step.batch.map((r) => ({
                ...r,
                partition: r.partition === undefined ? undefined : r.partition % TOPICS[r.topic],
              }))
              const positions = await bus.publish(
                batch.map(({ partition, ...r }) => (partition === undefined ? r : { ...r, partition })),
              )
              batch.forEach((r, i) => {
                const position = positions[i]!
                if (r.partition !== undefined) expect(position.partition).toBe(r.partition)
                else if (r.key !== null)
                  expect(position.partition).toBe(partitionForKey(r.key, TOPICS[r.topic]))
                const log = logOf(r.topic, position.partition)
                expect(position.offset).toBe(log.length)
                log.push({
                  key: r.key,
                  value: [...r.value],
                  timestamp: r.timestamp,
                  headers: { ...r.headers },
                })
              })
            } else if (step.op === "torn") {
              // Bytes of a write that never completed: not acknowledged, so not in the model.
              await bus.close()
              const partition = step.partition % TOPICS[step.topic]
              const garbage = Buffer.concat([Buffer.from([0, 0, 0xff, 0xff]), Buffer.from(step.bytes)])
              appendFileSync(join(dataDir, "topics", step.topic, `${partition}.log`), garbage)
              bus = await openEmbeddedBus({ dataDir, logger: quiet })
            } else {
              if (step.op === "crash") await bus.crash()
              else await bus.close()
              bus = await openEmbeddedBus({ dataDir, logger: quiet })
            }
          }

          for (const [topic, partitions] of Object.entries(TOPICS)) {
            const marks = await bus.watermarks(topic)
            for (let partition = 0; partition < partitions; partition++) {
              const expected = model.get(`${topic}/${partition}`) ?? []
              expect(marks[partition]).toEqual({ partition, low: 0, high: expected.length })
              const actual: BusRecord[] = []
              for await (const r of bus.read({ topic, partitions: [partition], from: "earliest" }))
                actual.push(r)
              expect(
                actual.map((r) => ({
                  key: r.key,
                  value: [...r.value],
                  timestamp: r.timestamp,
                  headers: { ...r.headers },
                })),
              ).toEqual(expected)
              for (const target of [-1, 0, 10, 25, 50, 51]) {
                const first = expected.findIndex((r) => r.timestamp >= target)
                const [found] = (await bus.offsetsForTimestamp(topic, target)).filter(
                  (o) => o.partition === partition,
                )
                expect(found!.offset).toBe(first === -1 ? expected.length : first)
              }
            }
          }
        } finally {
          await bus.close()
          await rm(dataDir, { recursive: true, force: true })
        }
      }),
      { numRuns: 100 },
    )
  }, 120_000)
})
