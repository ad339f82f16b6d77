/**
 * Contract: positions in the log.
 *
 * - `offsetsForTimestamp`: the first offset at or after a time, the high
 *   watermark where there is none.
 * - `Subscription.seek` by offset, by timestamp and to the earliest record:
 *   the next record handled is the one at the position.
 * - `read` replays a fixed range: from/to offsets or timestamps, exclusive
 *   end, partition by partition in offset order, not following new writes.
 * - `watermarks`: low and high (next to be written) per partition.
 *
 * @module
 */
import { expect } from "vitest"
import type { BusPort, BusRecord } from "../port.ts"
import { byPartition, collect, contractPart, decode, encode, recordAll } from "./support.ts"

/** A whole second, an hour ago: far from "now", so adapter clocks cannot collide with it. */
const baseTime = () => Math.floor((Date.now() - 3_600_000) / 1000) * 1000

const publishTimed = (bus: BusPort, topic: string, partition: number, count: number, base: number) =>
  bus.publish(
    Array.from({ length: count }, (_, i) => ({
      topic,
      key: `p${partition}`,
      partition,
      timestamp: base + i * 1000,
      value: encode(`${partition}:${i}`),
    })),
  )

const positionsOf = (records: ReadonlyArray<BusRecord>) => records.map((r) => [r.partition, r.offset])

/**
 * Registers this part of the contract; `busContractSuite` calls it.
 *
 * @example
 * ```ts
 * describe("bus contract: embedded", () => { positionsContract(contractContext(harness)) })
 * ```
 */
export const positionsContract = contractPart("positions: seek, read, watermarks", {
  "seeks a member by offset, by timestamp and to the earliest record": async (ctx) => {
    const { bus, topic, groupId } = await ctx.fresh("seek", 2)
    const base = baseTime()
    await publishTimed(bus, topic, 0, 10, base)
    await publishTimed(bus, topic, 1, 4, base)

    expect(byPartition(await bus.offsetsForTimestamp(topic, base + 4500))).toEqual({ 0: 5, 1: 4 })
    expect(byPartition(await bus.offsetsForTimestamp(topic, base + 3000))).toEqual({ 0: 3, 1: 3 })
    expect(byPartition(await bus.offsetsForTimestamp(topic, base - 60_000))).toEqual({ 0: 0, 1: 0 })
    expect(byPartition(await bus.offsetsForTimestamp(topic, base + 3_600_000))).toEqual({ 0: 10, 1: 4 })

    const { records: handled, subscription } = await recordAll(bus, groupId, topic)
    const onP0 = () => handled.filter((r) => r.partition === 0)
    await ctx.waitFor(
      "all 14 records",
      () => handled.length >= 14,
      () => `${handled.length}`,
    )
    expect(onP0().map((r) => r.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => base + i * 1000))

    const seekAndCollect = async (position: Parameters<typeof subscription.seek>[2], expected: number[]) => {
      const from = onP0().length
      await subscription.seek(topic, 0, position)
      await ctx.waitFor(
        `offsets ${expected[0]}..${expected.at(-1)} again after seeking to ${JSON.stringify(position)}`,
        () => onP0().length >= from + expected.length,
        () =>
          `${onP0()
            .slice(from)
            .map((r) => r.offset)}`,
      )
      expect(
        onP0()
          .slice(from)
          .map((r) => r.offset),
      ).toEqual(expected)
    }
    await seekAndCollect({ offset: 7 }, [7, 8, 9])
    await seekAndCollect({ timestamp: base + 2500 }, [3, 4, 5, 6, 7, 8, 9])
    await seekAndCollect({ timestamp: base + 6000 }, [6, 7, 8, 9])
    await seekAndCollect("earliest", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // Seeking one partition leaves the other alone.
    expect(handled.filter((r) => r.partition === 1).map((r) => r.offset)).toEqual([0, 1, 2, 3])
  },

  "replays ranges with read and reports watermarks": async (ctx) => {
    const { bus, topic } = await ctx.fresh("read-range", 3)
    expect(await bus.watermarks(topic)).toEqual([
      { partition: 0, low: 0, high: 0 },
      { partition: 1, low: 0, high: 0 },
      { partition: 2, low: 0, high: 0 },
    ])
    const base = baseTime()
    await publishTimed(bus, topic, 0, 6, base)
    await publishTimed(bus, topic, 1, 3, base)

    const marks = [...(await bus.watermarks(topic))].sort((x, y) => x.partition - y.partition)
    expect(marks).toEqual([
      { partition: 0, low: 0, high: 6 },
      { partition: 1, low: 0, high: 3 },
      { partition: 2, low: 0, high: 0 },
    ])

    const everything = await collect(bus.read({ topic, from: "earliest" }))
    expect(positionsOf(everything)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
      [0, 5],
      [1, 0],
      [1, 1],
      [1, 2],
    ])
    expect(everything.map((r) => decode(r.value))).toEqual([
      "0:0",
      "0:1",
      "0:2",
      "0:3",
      "0:4",
      "0:5",
      "1:0",
      "1:1",
      "1:2",
    ])
    expect(everything.every((r) => r.topic === topic)).toBe(true)

    const byOffsets = await collect(bus.read({ topic, from: { offset: 2 }, to: { offset: 4 } }))
    expect(positionsOf(byOffsets)).toEqual([
      [0, 2],
      [0, 3],
      [1, 2],
    ])

    const byTime = await collect(
      bus.read({
        topic,
        partitions: [0],
        from: { timestamp: base + 1500 },
        to: { timestamp: base + 4000 },
      }),
    )
    expect(positionsOf(byTime)).toEqual([
      [0, 2],
      [0, 3],
    ])
    expect(byTime.map((r) => r.timestamp)).toEqual([base + 2000, base + 3000])

    const empty = await collect(bus.read({ topic, partitions: [2], from: "earliest" }))
    expect(empty).toEqual([])

    // The end is fixed when the range is read: later writes are not followed.
    const replay = bus.read({ topic, partitions: [1], from: "earliest" })[Symbol.asyncIterator]()
    const head = await replay.next()
    expect(head.done).toBe(false)
    await bus.publish([{ topic, key: null, partition: 1, value: encode("late") }])
    const rest: BusRecord[] = []
    for (let next = await replay.next(); !next.done; next = await replay.next()) rest.push(next.value)
    expect(rest.map((r) => r.offset)).toEqual([1, 2])
    expect((await bus.watermarks(topic)).find((m) => m.partition === 1)?.high).toBe(4)
  },
})
