/**
 * Contract: topics, publishing and partitioning.
 *
 * - `ensureTopics` creates what is missing, reports what exists, and never
 *   alters an existing topic.
 * - Keyed records land on `toPositive(murmur2(key)) % partitions` (Kafka's
 *   default partitioner), an explicit partition wins, keyless records spread.
 * - Positions come back in input order, offsets contiguous per partition.
 * - Per-key order: each key's values are consumed in publish order.
 * - A record over `MAX_RECORD_BYTES` is refused before anything of its batch
 *   is written, with an error naming its topic and size.
 *
 * @module
 */
import { expect } from "vitest"
import { partitionForKey } from "../partitioner/index.ts"
import type { BusRecord } from "../port.ts"
import { MAX_RECORD_BYTES, RecordTooLargeError } from "../record-size.ts"
import { collect, contractPart, decode, encode, topicSpec, uniqueName } from "./support.ts"

/**
 * Registers this part of the contract; `busContractSuite` calls it.
 *
 * @example
 * ```ts
 * describe("bus contract: embedded", () => { publishingContract(contractContext(harness)) })
 * ```
 */
export const publishingContract = contractPart("topics and partitioning", {
  "ensureTopics creates missing topics, is idempotent, and never alters an existing topic": async (ctx) => {
    const bus = await ctx.open()
    const a = uniqueName("ensure-a")
    const b = uniqueName("ensure-b")
    const c = uniqueName("ensure-c")

    const first = await bus.ensureTopics([topicSpec(a, 3), topicSpec(b, 1)])
    expect([...first.created].sort()).toEqual([a, b].sort())
    expect(first.existing).toEqual([])

    const second = await bus.ensureTopics([topicSpec(a, 3), topicSpec(b, 1)])
    expect(second.created).toEqual([])
    expect([...second.existing].sort()).toEqual([a, b].sort())

    const third = await bus.ensureTopics([topicSpec(a, 5), topicSpec(c, 2)])
    expect(third.created).toEqual([c])
    expect(third.existing).toEqual([a])

    expect(await bus.partitions(a)).toBe(3)
    expect(await bus.partitions(b)).toBe(1)
    expect(await bus.partitions(c)).toBe(2)
    await expect(bus.partitions(uniqueName("never-created"))).rejects.toThrow()
  },

  "puts keyed records where Kafka's murmur2 partitioner does, in input order": async (ctx) => {
    const { bus, topic } = await ctx.fresh("keyed", 8)
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}-${Math.random().toString(36).slice(2)}`)
    keys.push("", "ünïcødé-κλειδί", "🔑")
    const positions = await bus.publish(keys.map((key) => ({ topic, key, value: encode(key) })))

    expect(positions).toHaveLength(keys.length)
    const nextOffset = new Map<number, number>()
    positions.forEach((position, i) => {
      expect(position.topic).toBe(topic)
      expect(position.partition).toBe(partitionForKey(keys[i]!, 8))
      // Offsets per partition are contiguous and follow input order.
      expect(position.offset).toBe(nextOffset.get(position.partition) ?? 0)
      nextOffset.set(position.partition, position.offset + 1)
    })
    expect(nextOffset.size).toBeGreaterThan(4)

    const [explicit] = await bus.publish([{ topic, key: keys[0]!, partition: 5, value: encode("x") }])
    expect(explicit!.partition).toBe(5)

    const keyless = await bus.publish(
      Array.from({ length: 16 }, (_, i) => ({ topic, key: null, value: encode(`keyless-${i}`) })),
    )
    expect(new Set(keyless.map((p) => p.partition)).size).toBeGreaterThan(1)

    // What was stored is what was published: key, value and headers.
    const probe = keys[7]!
    const partition = partitionForKey(probe, 8)
    const stored = await collect(bus.read({ topic, partitions: [partition], from: "earliest" }))
    const found = stored.find((record) => record.key === probe)
    expect(found && decode(found.value)).toBe(probe)
    const [withHeaders] = await bus.publish([
      {
        topic,
        key: null,
        partition: 2,
        value: new Uint8Array([0, 255, 1]),
        headers: { a: "1", "b-ü": "ß" },
      },
    ])
    const [readBack] = await collect(
      bus.read({ topic, partitions: [2], from: { offset: withHeaders!.offset } }),
    )
    expect(readBack!.key).toBeNull()
    expect([...readBack!.value]).toEqual([0, 255, 1])
    expect(readBack!.headers).toEqual({ a: "1", "b-ü": "ß" })
  },

  "delivers each key's values in publish order, from one partition per key": async (ctx) => {
    const { bus, topic, groupId } = await ctx.fresh("per-key-order", 4)
    const keys = Array.from({ length: 24 }, (_, i) => `order-${i}`)
    const rounds = 15
    const seen = new Map<string, { values: number[]; partitions: Set<number> }>()
    const lastOffset = new Map<number, number>()
    const outOfOrder: string[] = []
    let total = 0

    await bus.subscribe({
      groupId,
      topics: [topic],
      handler: async (record: BusRecord) => {
        const previous = lastOffset.get(record.partition)
        if (previous !== undefined && record.offset <= previous) {
          outOfOrder.push(`${record.partition}@${record.offset} after ${previous}`)
        }
        lastOffset.set(record.partition, record.offset)
        const entry = seen.get(record.key!) ?? { values: [], partitions: new Set<number>() }
        entry.values.push(Number(decode(record.value)))
        entry.partitions.add(record.partition)
        seen.set(record.key!, entry)
        total++
      },
    })

    for (let round = 0; round < rounds; round++) {
      const shuffled = [...keys].sort(() => Math.random() - 0.5)
      if (round % 2 === 0) {
        await bus.publish(shuffled.map((key) => ({ topic, key, value: encode(String(round)) })))
      } else {
        // Different keys concurrently, but one key never has two publishes in flight.
        await Promise.all(shuffled.map((key) => bus.publish([{ topic, key, value: encode(String(round)) }])))
      }
    }

    await ctx.waitFor(
      `${keys.length * rounds} records`,
      () => total >= keys.length * rounds,
      () => `${total}`,
    )
    expect(outOfOrder).toEqual([])
    for (const key of keys) {
      const entry = seen.get(key)
      expect(entry?.values).toEqual(Array.from({ length: rounds }, (_, i) => i))
      expect([...(entry?.partitions ?? [])]).toEqual([partitionForKey(key, 4)])
    }
  },

  "refuses a record over the bus's limit, naming its topic and size, and writes nothing of its batch": async (
    ctx,
  ) => {
    const bus = await ctx.open()
    const topic = uniqueName("too-large")
    await bus.ensureTopics([topicSpec(topic, 1)])
    const refused = bus.publish([
      { topic, key: "small", value: encode("fits") },
      { topic, key: "large", value: new Uint8Array(MAX_RECORD_BYTES + 1) },
    ])
    await expect(refused).rejects.toBeInstanceOf(RecordTooLargeError)
    await expect(refused).rejects.toThrow(new RegExp(`${topic} is ${MAX_RECORD_BYTES + 6} bytes`))
    expect(await collect(bus.read({ topic, from: "earliest" }))).toEqual([])
    // A record at the limit is accepted.
    await bus.publish([{ topic, key: null, value: new Uint8Array(MAX_RECORD_BYTES) }])
    expect((await collect(bus.read({ topic, from: "earliest" }))).map((r) => r.value.length)).toEqual([
      MAX_RECORD_BYTES,
    ])
  },
})
