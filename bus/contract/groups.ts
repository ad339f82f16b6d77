/**
 * Contract: consumer groups.
 *
 * - Two members of a group split the partitions (disjoint, covering all) and
 *   handle every record exactly once when nothing fails.
 * - When one leaves, its record in flight finishes and commits, its
 *   partitions move to the other member, which continues from the committed
 *   offsets: nothing is lost and nothing handled twice.
 *
 * @module
 */
import { expect } from "vitest"
import type { BusRecord, Subscription, TopicPartition } from "../port.ts"
import { byPartition, contractPart, decode, encode, makeGate } from "./support.ts"

interface Handled {
  readonly member: "a" | "b"
  readonly record: BusRecord
}

const partitionsOf = (assignment: ReadonlyArray<TopicPartition>, topic: string) =>
  assignment
    .filter((tp) => tp.topic === topic)
    .map((tp) => tp.partition)
    .sort((x, y) => x - y)

/**
 * Registers this part of the contract; `busContractSuite` calls it.
 *
 * @example
 * ```ts
 * describe("bus contract: embedded", () => { groupsContract(contractContext(harness)) })
 * ```
 */
export const groupsContract = contractPart("consumer groups", {
  "splits partitions between two members, then moves them when one leaves": async (ctx) => {
    const partitions = 6
    const { bus, topic, groupId } = await ctx.fresh("two-members", partitions)
    const handled: Handled[] = []
    const held = makeGate()
    let holding = false

    const member = (name: "a" | "b") => async (record: BusRecord) => {
      handled.push({ member: name, record })
      if (decode(record.value) === "held") {
        holding = true
        await held.promise
      }
    }
    const a: Subscription = await bus.subscribe({ groupId, topics: [topic], handler: member("a") })
    const b: Subscription = await bus.subscribe({ groupId, topics: [topic], handler: member("b") })
    const all = Array.from({ length: partitions }, (_, i) => i)

    await ctx.waitFor(
      "a disjoint split of all partitions between both members",
      () => {
        const pa = partitionsOf(a.assignment(), topic)
        const pb = partitionsOf(b.assignment(), topic)
        const union = [...pa, ...pb].sort((x, y) => x - y)
        return pa.length > 0 && pb.length > 0 && JSON.stringify(union) === JSON.stringify(all)
      },
      () => `a=${partitionsOf(a.assignment(), topic)} b=${partitionsOf(b.assignment(), topic)}`,
    )
    const ownedByA = partitionsOf(a.assignment(), topic)

    // Phase 1: both members, no failure: every record exactly once, by its partition's owner.
    const phase1 = await bus.publish(
      Array.from({ length: 60 }, (_, i) => ({ topic, key: `k${i}`, value: encode(`one-${i}`) })),
    )
    await ctx.waitFor(
      "phase 1 handled and committed",
      async () => {
        if (handled.length < phase1.length) return false
        const committed = byPartition(await bus.committedOffsets(groupId, topic))
        const marks = await bus.watermarks(topic)
        return marks.every((m) => m.high === 0 || committed[m.partition] === m.high)
      },
      () => `${handled.length} handled`,
    )
    const phase1Keys = handled.map((h) => `${h.record.partition}@${h.record.offset}`)
    expect(new Set(phase1Keys).size).toBe(phase1Keys.length)
    expect([...phase1Keys].sort()).toEqual(phase1.map((p) => `${p.partition}@${p.offset}`).sort())
    for (const { member, record } of handled) {
      expect(member).toBe(ownedByA.includes(record.partition) ? "a" : "b")
    }
    expect(new Set(handled.map((h) => h.member))).toEqual(new Set(["a", "b"]))

    // A leaves while it has a record in flight: that record finishes and commits first.
    const heldPartition = ownedByA[0]!
    const [heldAt] = await bus.publish([
      { topic, key: null, partition: heldPartition, value: encode("held") },
    ])
    await bus.publish([{ topic, key: null, partition: heldPartition, value: encode("after-held") }])
    await ctx.waitFor("a's record in flight", () => holding)
    const leaving = a.stop()
    held.open()
    await leaving
    const committedAtLeave = byPartition(await bus.committedOffsets(groupId, topic))
    expect(committedAtLeave[heldPartition]).toBeGreaterThanOrEqual(heldAt!.offset + 1)

    await ctx.waitFor(
      "b to own every partition",
      () => JSON.stringify(partitionsOf(b.assignment(), topic)) === JSON.stringify(all),
      () => `b=${partitionsOf(b.assignment(), topic)}`,
    )

    // Phase 2: b alone continues from the committed offsets.
    const before = handled.length
    const phase2 = await bus.publish(
      Array.from({ length: 60 }, (_, i) => ({ topic, key: `k${i}`, value: encode(`two-${i}`) })),
    )
    await ctx.waitFor(
      "phase 2 handled by b",
      () =>
        phase2.every((p) =>
          handled.some((h) => h.record.partition === p.partition && h.record.offset === p.offset),
        ),
      () => `${handled.length - before} handled since the leave`,
    )

    const keys = handled.map((h) => `${h.record.partition}@${h.record.offset}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(handled.filter((h) => decode(h.record.value) === "held").map((h) => h.member)).toEqual(["a"])
    expect(handled.filter((h) => decode(h.record.value) === "after-held")).toHaveLength(1)
    const phase2Members = handled
      .filter((h) => decode(h.record.value).startsWith("two-"))
      .map((h) => h.member)
    expect(new Set(phase2Members)).toEqual(new Set(["b"]))
    // b picked up each of a's partitions right after a's last record there: a's commit.
    for (const partition of ownedByA) {
      const byA = handled.filter((h) => h.member === "a" && h.record.partition === partition)
      const firstByB = handled.find((h) => h.member === "b" && h.record.partition === partition)
      if (byA.length === 0) continue
      expect(firstByB?.record.offset).toBe(byA.at(-1)!.record.offset + 1)
    }
  },

  "gives every partition to one member under `single`, the standby takes all when it leaves, and fence tells them apart":
    async (ctx) => {
      const partitions = 6
      const { bus, topic, groupId } = await ctx.fresh("single", partitions)
      const handled: Array<{ member: "a" | "b"; record: BusRecord }> = []
      const member = (name: "a" | "b") => async (record: BusRecord) => {
        handled.push({ member: name, record })
      }
      const all = Array.from({ length: partitions }, (_, i) => i)
      const single = { groupId, topics: [topic], assignment: "single" as const }
      const a: Subscription = await bus.subscribe({ ...single, handler: member("a") })
      await ctx.waitFor(
        "a to hold every partition",
        () => JSON.stringify(partitionsOf(a.assignment(), topic)) === JSON.stringify(all),
        () => `a=${partitionsOf(a.assignment(), topic)}`,
      )
      const b: Subscription = await bus.subscribe({ ...single, handler: member("b") })
      // A member joining does not move the work: a keeps it all, b stands by with nothing.
      await ctx.waitFor(
        "b to join with nothing while a keeps every partition",
        async () =>
          partitionsOf(b.assignment(), topic).length === 0 &&
          JSON.stringify(partitionsOf(a.assignment(), topic)) === JSON.stringify(all) &&
          (await a.fence().then(
            () => true,
            () => false,
          )),
        () => `a=${partitionsOf(a.assignment(), topic)} b=${partitionsOf(b.assignment(), topic)}`,
      )
      await expect(b.fence()).rejects.toMatchObject({ name: "MemberFencedError" })
      const first = await bus.publish(
        Array.from({ length: 30 }, (_, i) => ({ topic, key: `k${i}`, value: encode(`one-${i}`) })),
      )
      await ctx.waitFor("a to handle the first records", () => handled.length >= first.length)
      expect(new Set(handled.map((h) => h.member))).toEqual(new Set(["a"]))

      // a leaves: it is fenced from then on, and b takes every partition from a's commits.
      await a.stop()
      await expect(a.fence()).rejects.toMatchObject({ name: "MemberFencedError" })
      await ctx.waitFor(
        "b to hold every partition",
        () => JSON.stringify(partitionsOf(b.assignment(), topic)) === JSON.stringify(all),
        () => `b=${partitionsOf(b.assignment(), topic)}`,
      )
      await ctx.waitFor("b to pass its fence", () =>
        b.fence().then(
          () => true,
          () => false,
        ),
      )
      const second = await bus.publish(
        Array.from({ length: 30 }, (_, i) => ({ topic, key: `k${i}`, value: encode(`two-${i}`) })),
      )
      await ctx.waitFor("b to handle the second records", () =>
        second.every((p) =>
          handled.some((h) => h.record.partition === p.partition && h.record.offset === p.offset),
        ),
      )
      const byB = handled.filter((h) => decode(h.record.value).startsWith("two-"))
      expect(new Set(byB.map((h) => h.member))).toEqual(new Set(["b"]))
      // Nothing handled twice: b started each partition where a's commits left it.
      const keys = handled.map((h) => `${h.record.partition}@${h.record.offset}`)
      expect(new Set(keys).size).toBe(keys.length)
    },
})
