/**
 * Contract: delivery and commits.
 *
 * - At-least-once: a member that crashes before its handler resolved loses
 *   nothing; a new member of the group gets the record again.
 * - Commit and resume: a graceful stop commits the record in flight; the group
 *   resumes right after it, with no repeats.
 * - A handler that throws does not commit; the record is redelivered before
 *   anything after it on that partition.
 *
 * @module
 */
import { expect } from "vitest"
import type { BusPort, BusRecord } from "../port.ts"
import { byPartition, contractPart, decode, encode, makeGate, recordAll } from "./support.ts"

const committedOn = async (bus: BusPort, groupId: string, topic: string) =>
  byPartition(await bus.committedOffsets(groupId, topic))

/**
 * Registers this part of the contract; `busContractSuite` calls it.
 *
 * @example
 * ```ts
 * describe("bus contract: embedded", () => { deliveryContract(contractContext(harness)) })
 * ```
 */
export const deliveryContract = contractPart("delivery and commits", {
  "redelivers to a new member after a crash before the handler resolved": async (ctx) => {
    const { bus: first, topic, groupId } = await ctx.fresh("crash-redelivery", 1)
    await first.publish(Array.from({ length: 10 }, (_, i) => ({ topic, key: "k", value: encode(String(i)) })))

    const stuck = makeGate()
    const beforeCrash: number[] = []
    await first.subscribe({
      groupId,
      topics: [topic],
      handler: async (record) => {
        beforeCrash.push(record.offset)
        if (record.offset === 5) await stuck.promise
      },
    })
    await ctx.waitFor(
      "the handler to hold offset 5",
      () => beforeCrash.includes(5),
      () => `${beforeCrash}`,
    )
    // Offset 5 is in flight, so nothing at or past it may be committed yet.
    expect((await committedOn(first, groupId, topic))[0] ?? 0).toBeLessThanOrEqual(5)
    await ctx.crash(first)

    const second = await ctx.reopen(first)
    const { records: afterCrash } = await recordAll(second, groupId, topic)
    await ctx.waitFor(
      "offsets 5..9 on the new member",
      () => afterCrash.some((r) => r.offset === 9),
      () => `${afterCrash.map((r) => r.offset)}`,
    )
    // Only now does the crashed member's handler resolve: too late to count.
    stuck.open()

    const offsets = afterCrash.map((r) => r.offset)
    expect(offsets).toContain(5)
    expect(offsets[0]).toBeLessThanOrEqual(5)
    // In order, from wherever the last commit was, with nothing skipped.
    expect(offsets).toEqual(Array.from({ length: 10 - offsets[0]! }, (_, i) => offsets[0]! + i))
    expect(afterCrash.map((r) => decode(r.value))).toEqual(offsets.map(String))
    await ctx.waitFor(
      "the commit of offset 9",
      async () => (await committedOn(second, groupId, topic))[0] === 10,
    )
  },

  "commits the record in flight on a graceful stop and resumes after it without repeats": async (ctx) => {
    const { bus: first, topic, groupId } = await ctx.fresh("commit-resume", 2)
    const publishTo = (bus: BusPort, partition: number, count: number, label: string) =>
      bus.publish(
        Array.from({ length: count }, (_, i) => ({
          topic,
          key: null,
          partition,
          value: encode(`${label}-${i}`),
        })),
      )
    await publishTo(first, 0, 6, "a")
    await publishTo(first, 1, 6, "a")

    const handledFirst: BusRecord[] = []
    const hold = makeGate()
    let holding = false
    const subscription = await first.subscribe({
      groupId,
      topics: [topic],
      handler: async (record) => {
        handledFirst.push(record)
        if (decode(record.value) === "held-0") {
          holding = true
          await hold.promise
        }
      },
    })
    await ctx.waitFor(
      "12 records",
      () => handledFirst.length >= 12,
      () => `${handledFirst.length}`,
    )
    await ctx.waitFor(
      "commits at 6 and 6",
      async () => JSON.stringify(await committedOn(first, groupId, topic)) === JSON.stringify({ 0: 6, 1: 6 }),
    )

    await publishTo(first, 0, 1, "held")
    await ctx.waitFor("the held record in flight", () => holding)
    const stopping = subscription.stop()
    hold.open()
    await stopping
    expect(await committedOn(first, groupId, topic)).toEqual({ 0: 7, 1: 6 })
    await ctx.close(first)

    const second = await ctx.reopen(first)
    await publishTo(second, 0, 3, "b")
    await publishTo(second, 1, 3, "b")
    const { records: handledSecond } = await recordAll(second, groupId, topic)
    await ctx.waitFor(
      "the 6 new records",
      () => handledSecond.length >= 6,
      () => `${handledSecond.map((r) => `${r.partition}@${r.offset}`)}`,
    )
    const on = (partition: number) =>
      handledSecond.filter((r) => r.partition === partition).map((r) => [r.offset, decode(r.value)])
    expect(on(0)).toEqual([
      [7, "b-0"],
      [8, "b-1"],
      [9, "b-2"],
    ])
    expect(on(1)).toEqual([
      [6, "b-0"],
      [7, "b-1"],
      [8, "b-2"],
    ])
    expect(handledFirst.filter((r) => decode(r.value) === "held-0")).toHaveLength(1)
    await ctx.waitFor(
      "commits at 10 and 9",
      async () =>
        JSON.stringify(await committedOn(second, groupId, topic)) === JSON.stringify({ 0: 10, 1: 9 }),
    )
  },

  "closes gracefully: the record in flight finishes and is committed before close resolves": async (ctx) => {
    const { bus: first, topic, groupId } = await ctx.fresh("close-graceful", 1)
    await first.publish([0, 1, 2].map((i) => ({ topic, key: "k", value: encode(String(i)) })))
    const hold = makeGate()
    const handled: number[] = []
    let finished = false
    await first.subscribe({
      groupId,
      topics: [topic],
      handler: async (record) => {
        handled.push(record.offset)
        if (record.offset === 1) {
          await hold.promise
          finished = true
        }
      },
    })
    await ctx.waitFor(
      "offset 1 in flight",
      () => handled.includes(1),
      () => `${handled}`,
    )
    const closing = ctx.close(first)
    hold.open()
    await closing
    expect(finished).toBe(true)

    const second = await ctx.reopen(first)
    const committed = (await committedOn(second, groupId, topic))[0]!
    expect(committed).toBeGreaterThanOrEqual(2)
    await second.publish([{ topic, key: "k", value: encode("3") }])
    const { records: resumed } = await recordAll(second, groupId, topic)
    await ctx.waitFor(
      "offset 3 after reopening",
      () => resumed.some((r) => r.offset === 3),
      () => `${resumed.map((r) => r.offset)}`,
    )
    // Resumed exactly at the commit made by the graceful close.
    expect(resumed.map((r) => r.offset)).toEqual(
      Array.from({ length: 4 - committed }, (_, i) => committed + i),
    )
    expect(handled.filter((offset) => offset === 1)).toHaveLength(1)
  },

  "does not commit a record whose handler threw, and redelivers it before the next": async (ctx) => {
    const { bus, topic, groupId } = await ctx.fresh("handler-throws", 1)
    await bus.publish(Array.from({ length: 5 }, (_, i) => ({ topic, key: "k", value: encode(String(i)) })))

    const attempts: number[] = []
    const retry: { read: boolean; committed: number | undefined } = { read: false, committed: undefined }
    await bus.subscribe({
      groupId,
      topics: [topic],
      handler: async (record) => {
        attempts.push(record.offset)
        const tries = attempts.filter((offset) => offset === 2).length
        if (record.offset === 2 && tries === 1) throw new Error("contract: handler fails once")
        if (record.offset === 2 && tries === 2) {
          retry.committed = (await committedOn(bus, groupId, topic))[0]
          retry.read = true
        }
      },
    })
    await ctx.waitFor(
      "offset 4 and its commit",
      async () => attempts.includes(4) && (await committedOn(bus, groupId, topic))[0] === 5,
      () => `${attempts}`,
    )

    expect(attempts.filter((offset) => offset === 2).length).toBeGreaterThanOrEqual(2)
    expect(retry.read).toBe(true)
    // While offset 2 was being retried, nothing past it was committed.
    expect(retry.committed ?? 0).toBeLessThanOrEqual(2)
    // Nothing after offset 2 was handled before its retry.
    const secondTry = attempts.indexOf(2, attempts.indexOf(2) + 1)
    expect(attempts.indexOf(3)).toBeGreaterThan(secondTry)
    expect(attempts.slice(secondTry)).toEqual([2, 3, 4])
  },
})
