import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { makeGate, waitFor } from "../contract/index.ts"
import type { BusRecord, TopicPartition } from "../port.ts"
import { type EmbeddedBus, type EmbeddedBusLogger, openEmbeddedBus } from "./index.ts"

const encode = (text: string) => new TextEncoder().encode(text)
const spec = (name: string, partitions: number) =>
  ({ name, partitions, cleanupPolicy: "delete", retentionMs: -1 }) as const
const quiet: EmbeddedBusLogger = { warn: () => {}, error: () => {} }
const until = (what: string, predicate: () => boolean) => waitFor(what, predicate, { timeoutMs: 10_000 })

let open: Array<{ bus: EmbeddedBus; dir: string }> = []
afterEach(async () => {
  for (const { bus, dir } of open) {
    await bus.close()
    await rm(dir, { recursive: true, force: true })
  }
  open = []
})
async function freshBus(logger: EmbeddedBusLogger = quiet): Promise<EmbeddedBus> {
  const dir = await mkdtemp(join(tmpdir(), "chorus-bus-group-"))
  const bus = await openEmbeddedBus({ dataDir: dir, logger })
  open.push({ bus, dir })
  return bus
}
const partitionsOf = (assignment: ReadonlyArray<TopicPartition>) => assignment.map((tp) => tp.partition)

describe("embedded consumer groups", () => {
  it("assigns contiguous ranges in join order and reports each change", async () => {
    const bus = await freshBus()
    await bus.ensureTopics([spec("t", 7)])
    const reported = new Map<string, number[][]>()
    const join = async () => {
      const log: number[][] = []
      const subscription = await bus.subscribe({
        groupId: "g",
        topics: ["t"],
        handler: async () => {},
        onAssignment: (assignment) => log.push(partitionsOf(assignment)),
      })
      reported.set(subscription.memberId, log)
      return subscription
    }
    const a = await join()
    expect(partitionsOf(a.assignment())).toEqual([0, 1, 2, 3, 4, 5, 6])
    const b = await join()
    const c = await join()
    expect(partitionsOf(a.assignment())).toEqual([0, 1, 2])
    expect(partitionsOf(b.assignment())).toEqual([3, 4])
    expect(partitionsOf(c.assignment())).toEqual([5, 6])
    expect(reported.get(a.memberId)).toEqual([
      [0, 1, 2, 3, 4, 5, 6],
      [0, 1, 2, 3],
      [0, 1, 2],
    ])
    await b.stop()
    expect(partitionsOf(a.assignment())).toEqual([0, 1, 2, 3])
    expect(partitionsOf(c.assignment())).toEqual([4, 5, 6])
    expect(b.assignment()).toEqual([])
  })

  it("assigns each topic among the members subscribed to it", async () => {
    const bus = await freshBus()
    await bus.ensureTopics([spec("x", 2), spec("y", 2)])
    const both = await bus.subscribe({ groupId: "g", topics: ["x", "y"], handler: async () => {} })
    const onlyY = await bus.subscribe({ groupId: "g", topics: ["y"], handler: async () => {} })
    expect(both.assignment()).toEqual([
      { topic: "x", partition: 0 },
      { topic: "x", partition: 1 },
      { topic: "y", partition: 0 },
    ])
    expect(onlyY.assignment()).toEqual([{ topic: "y", partition: 1 }])
  })

  it("runs partitions concurrently: a slow record holds only its own partition", async () => {
    const bus = await freshBus()
    await bus.ensureTopics([spec("t", 2)])
    const gate = makeGate()
    const handled: string[] = []
    await bus.subscribe({
      groupId: "g",
      topics: ["t"],
      handler: async (record) => {
        handled.push(`${record.partition}@${record.offset}`)
        if (record.partition === 0) await gate.promise
      },
    })
    await bus.publish([
      { topic: "t", key: null, partition: 0, value: encode("slow") },
      { topic: "t", key: null, partition: 0, value: encode("queued") },
      ...[0, 1, 2].map(() => ({ topic: "t", key: null, partition: 1, value: encode("fast") })),
    ])
    await until("partition 1 to drain", () => handled.filter((h) => h.startsWith("1@")).length === 3)
    expect(handled.filter((h) => h.startsWith("0@"))).toEqual(["0@0"])
    gate.open()
    await until("partition 0 to go on", () => handled.includes("0@1"))
  })

  it("moves a partition only after its record in flight finished and committed", async () => {
    const bus = await freshBus()
    await bus.ensureTopics([spec("t", 2)])
    const gate = makeGate()
    const handled: Array<{ member: string; record: BusRecord }> = []
    await bus.subscribe({
      groupId: "g",
      topics: ["t"],
      handler: async (record) => {
        handled.push({ member: "a", record })
        if (record.partition === 1 && record.offset === 0) await gate.promise
      },
    })
    await bus.publish([0, 1, 2].map(() => ({ topic: "t", key: null, partition: 1, value: encode("x") })))
    await until("a to hold 1@0", () => handled.length === 1)

    let joined = false
    const joining = bus
      .subscribe({
        groupId: "g",
        topics: ["t"],
        handler: async (record) => void handled.push({ member: "b", record }),
      })
      .then((subscription) => {
        joined = true
        return subscription
      })
    // b cannot own partition 1 while a's record there is in flight.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve))
    expect(joined).toBe(false)
    expect(handled.map((h) => h.member)).toEqual(["a"])

    gate.open()
    const b = await joining
    expect(partitionsOf(b.assignment())).toEqual([1])
    await until("b to take 1@1 and 1@2", () => handled.length === 3)
    expect(handled.map((h) => `${h.member}:${h.record.offset}`)).toEqual(["a:0", "b:1", "b:2"])
  })

  it("starts a new group at the end with fromBeginning: false, and at its commit afterwards", async () => {
    const bus = await freshBus()
    await bus.ensureTopics([spec("t", 1)])
    await bus.publish([{ topic: "t", key: null, value: encode("old") }])
    const handled: number[] = []
    const first = await bus.subscribe({
      groupId: "g",
      topics: ["t"],
      fromBeginning: false,
      handler: async (record) => void handled.push(record.offset),
    })
    await bus.publish([{ topic: "t", key: null, value: encode("new") }])
    await until("the new record", () => handled.length === 1)
    expect(handled).toEqual([1])
    await first.stop()
    await bus.publish([{ topic: "t", key: null, value: encode("newer") }])
    await bus.subscribe({
      groupId: "g",
      topics: ["t"],
      fromBeginning: false,
      handler: async (record) => void handled.push(record.offset),
    })
    await until("the newer record", () => handled.length === 2)
    expect(handled).toEqual([1, 2])
  })

  it("reports a failing handler through the logger and retries the same record", async () => {
    const errors: string[] = []
    const bus = await freshBus({ warn: () => {}, error: (message) => errors.push(message) })
    await bus.ensureTopics([spec("t", 1)])
    await bus.publish([{ topic: "t", key: null, value: encode("x") }])
    let attempts = 0
    await bus.subscribe({
      groupId: "g",
      topics: ["t"],
      handler: async () => {
        attempts++
        if (attempts < 3) throw new Error("not yet")
      },
    })
    await until("the third attempt", () => attempts === 3)
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatch(/group g .*t\/0 offset 0 failed \(attempt 1\).*not yet/)
  })

  it("persists offsets of groups with long and odd ids", async () => {
    const dir = await mkdtemp(join(tmpdir(), "chorus-bus-group-"))
    const ids = ["x".repeat(300), "y".repeat(300), "../../etc/passwd", "a*b", ".", "ü/ß"]
    const first = await openEmbeddedBus({ dataDir: dir, logger: quiet })
    await first.ensureTopics([spec("t", 1)])
    await first.publish([{ topic: "t", key: null, value: encode("x") }])
    for (const groupId of ids) {
      let done = false
      const subscription = await first.subscribe({
        groupId,
        topics: ["t"],
        handler: async () => {
          done = true
        },
      })
      await until(`group ${groupId.slice(0, 20)}`, () => done)
      await subscription.stop()
    }
    await first.close()
    const second = await openEmbeddedBus({ dataDir: dir, logger: quiet })
    open.push({ bus: second, dir })
    for (const groupId of ids) {
      expect(await second.committedOffsets(groupId, "t")).toEqual([{ partition: 0, offset: 1 }])
    }
  })

  it("rejects a seek on a partition the member does not own", async () => {
    const bus = await freshBus()
    await bus.ensureTopics([spec("t", 2)])
    const a = await bus.subscribe({ groupId: "g", topics: ["t"], handler: async () => {} })
    await bus.subscribe({ groupId: "g", topics: ["t"], handler: async () => {} })
    await expect(a.seek("t", 1, { offset: 0 })).rejects.toMatchObject({ _tag: "NotAssignedError" })
  })
})
