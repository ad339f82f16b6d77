import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it, vi } from "vitest"
import { quietLogger } from "../../test/fixtures/embedded-bus.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import { busContractSuite, waitFor } from "../contract/index.ts"
import { decode, encode, readAll, recordAll, topicSpec } from "../contract/support.ts"
import { Bus, type BusPort, type BusRecord } from "../port.ts"
import { FixtureChild } from "./fixtures/child.ts"
import {
  BusClosedError,
  DataDirLockedError,
  EmbeddedBus,
  EmbeddedBusLive,
  type EmbeddedBusLogger,
  InvalidTopicError,
  openEmbeddedBus,
  PartitionOutOfRangeError,
  SegmentCorruptError,
  TopicNotFoundError,
} from "./index.ts"
import { FLUSH_INTERVAL_MS } from "./offset-store.ts"

const contractDirs = useTempDirs("chorus-bus-contract-")

const asEmbedded = (bus: BusPort): EmbeddedBus => {
  if (!(bus instanceof EmbeddedBus)) throw new TypeError("the embedded harness got a bus it did not open")
  return bus
}

busContractSuite("embedded", {
  open: async () => openEmbeddedBus({ dataDir: await contractDirs(), logger: quietLogger }),
  reopen: async (bus) => openEmbeddedBus({ dataDir: asEmbedded(bus).dataDir, logger: quietLogger }),
  crash: (bus) => asEmbedded(bus).crash(),
  timeouts: { waitMs: 10_000, testMs: 30_000 },
})

const freshDir = useTempDirs("chorus-bus-embedded-")
const capture = () => {
  const warnings: string[] = []
  const errors: string[] = []
  const logger: EmbeddedBusLogger = { warn: (m) => warnings.push(m), error: (m) => errors.push(m) }
  return { logger, warnings, errors }
}

/** A one-partition topic with `count` records, closed; returns the segment path and each frame's start. */
async function segmentWith(count: number) {
  const dataDir = await freshDir()
  const bus = await openEmbeddedBus({ dataDir, logger: quietLogger })
  await bus.ensureTopics([topicSpec("t", 1)])
  const file = join(dataDir, "topics", "t", "0.log")
  const starts: number[] = []
  for (let i = 0; i < count; i++) {
    starts.push(statSync(file).size)
    await bus.publish([{ topic: "t", key: `k${i}`, value: encode(`v${i}`) }])
  }
  await bus.close()
  return { dataDir, file, starts, size: statSync(file).size }
}

describe("embedded: torn tails are truncated with a warning", () => {
  // [what, damage, whether the damage is in the last record's frame (else after it)]
  const cases: ReadonlyArray<[string, (file: string, size: number) => void, boolean]> = [
    [
      "a last frame whose declared length runs past the end",
      (file, size) => truncateSync(file, size - 3),
      true,
    ],
    [
      "a last frame whose CRC fails at the end of the file",
      (file, size) => {
        const bytes = readFileSync(file)
        bytes[size - 2]! ^= 0xff
        writeFileSync(file, bytes)
      },
      true,
    ],
    ["a partial frame header", (file) => appendFileSync(file, Buffer.from([0, 0, 0])), false],
    ["zeros the filesystem left after the frames", (file) => appendFileSync(file, Buffer.alloc(100)), false],
  ]
  it.each(cases)("%s", async (_label, damage, inLastRecord) => {
    const { dataDir, file, starts, size } = await segmentWith(3)
    damage(file, size)
    const damagedAt = inLastRecord ? starts[2]! : size
    const { logger, warnings } = capture()
    const bus = await openEmbeddedBus({ dataDir, logger })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(file)
    expect(warnings[0]).toContain(`byte ${damagedAt}`)
    expect(statSync(file).size).toBe(damagedAt)

    const survivors = inLastRecord ? 2 : 3
    expect((await readAll(bus, "t")).map((r) => decode(r.value))).toEqual(
      ["v0", "v1", "v2"].slice(0, survivors),
    )
    // The log goes on from the repaired end, and reopens cleanly.
    const [next] = await bus.publish([{ topic: "t", key: null, value: encode("after") }])
    expect(next!.offset).toBe(survivors)
    await bus.close()
    const again = capture()
    const reopened = await openEmbeddedBus({ dataDir, logger: again.logger })
    expect(again.warnings).toEqual([])
    expect((await readAll(reopened, "t")).map((r) => r.offset)).toEqual(
      Array.from({ length: survivors + 1 }, (_, i) => i),
    )
    await reopened.close()
  })
})

describe("embedded: corruption in the middle is an error, never skipped", () => {
  it("fails on a damaged frame followed by more frames, naming file and position", async () => {
    const { dataDir, file, starts, size } = await segmentWith(3)
    const bytes = readFileSync(file)
    bytes[starts[1]! + 12]! ^= 0x01
    writeFileSync(file, bytes)

    const { logger, warnings } = capture()
    const failure = await openEmbeddedBus({ dataDir, logger }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(SegmentCorruptError)
    const corrupt = failure as SegmentCorruptError
    expect(corrupt._tag).toBe("SegmentCorruptError")
    expect(corrupt.details.file).toBe(file)
    expect(corrupt.details.position).toBe(starts[1])
    expect(corrupt.message).toContain(file)
    expect(corrupt.message).toContain(`byte ${starts[1]}`)
    expect(warnings).toEqual([])
    // Nothing was cut off, and the failed open left the directory unlocked.
    expect(statSync(file).size).toBe(size)
    await expect(openEmbeddedBus({ dataDir, logger })).rejects.toBeInstanceOf(SegmentCorruptError)
  })

  it("fails on a frame with a valid CRC but the wrong offset, even at the end", async () => {
    const { dataDir, file, starts } = await segmentWith(3)
    const firstFrame = readFileSync(file).subarray(starts[0]!, starts[1]!)
    appendFileSync(file, firstFrame)
    const failure = await openEmbeddedBus({ dataDir, logger: quietLogger }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(SegmentCorruptError)
    expect((failure as SegmentCorruptError).details.reason).toMatch(/offset 0, expected 3/)
  })
})

describe("embedded: durability and reopening", () => {
  it.each([
    ["never", 2000],
    ["always", 300],
  ] as const)(
    "keeps every acknowledged record when the publisher is killed with SIGKILL (fsync %s)",
    async (fsync, lines) => {
      const dataDir = await freshDir()
      const publisher = new FixtureChild("publisher.ts", [dataDir, "k9", fsync])
      await publisher.printed(lines)
      expect(await publisher.kill()).toBe("SIGKILL")

      const acks = publisher.lines("ack").map(([, partition, offset, value]) => ({
        partition: Number(partition),
        offset: Number(offset),
        value: value!,
      }))
      expect(acks.length).toBeGreaterThan(lines / 2)

      const { logger } = capture()
      const bus = await openEmbeddedBus({ dataDir, logger })
      const records = await readAll(bus, "k9")
      const stored = new Map(records.map((r) => [`${r.partition}@${r.offset}`, decode(r.value)]))
      const missing = acks.filter((ack) => stored.get(`${ack.partition}@${ack.offset}`) !== ack.value)
      expect(missing).toEqual([])
      await bus.close()
    },
    60_000,
  )

  it("never persists a commit ahead of the handler when the consumer is killed with SIGKILL", async () => {
    const dataDir = await freshDir()
    const setup = await openEmbeddedBus({ dataDir, logger: quietLogger })
    await setup.ensureTopics([topicSpec("c9", 1)])
    const total = 20_000
    for (let i = 0; i < total; i += 1000) {
      await setup.publish(
        Array.from({ length: 1000 }, (_, j) => ({ topic: "c9", key: null, value: encode(`${i + j}`) })),
      )
    }
    await setup.close()

    const consumer = new FixtureChild("consumer.ts", [dataDir, "c9"])
    await consumer.printed(2000)
    // Past a few commit intervals, so some commits were written to disk before the kill.
    await new Promise((resolve) => setTimeout(resolve, 3 * FLUSH_INTERVAL_MS))
    expect(await consumer.kill()).toBe("SIGKILL")
    const handled = consumer.lines("handled").map(([offset]) => Number(offset))
    expect(handled).toEqual(Array.from({ length: handled.length }, (_, i) => i))

    const bus = await openEmbeddedBus({ dataDir, logger: quietLogger })
    const [committed] = await bus.committedOffsets("g", "c9")
    // Commits were persisted while consuming, and never ahead of a handled record.
    expect(committed?.offset).toBeGreaterThan(0)
    expect(committed!.offset).toBeLessThanOrEqual(handled.length)
    const { records: resumed } = await recordAll(bus, "g", "c9")
    await waitFor("the rest of the records", () => resumed.length === total - committed!.offset, {
      timeoutMs: 30_000,
    })
    expect(resumed[0]?.offset).toBe(committed!.offset)
    await bus.close()
  }, 60_000)

  it("reopens with topics, records and committed offsets as they were", async () => {
    const dataDir = await freshDir()
    const first = await openEmbeddedBus({ dataDir, fsync: "always", logger: quietLogger })
    await first.ensureTopics([
      { name: "a.b", partitions: 3, cleanupPolicy: "compact", retentionMs: 86_400_000 },
    ])
    await first.publish(
      Array.from({ length: 9 }, (_, i) => ({ topic: "a.b", key: `k${i}`, value: encode(`${i}`) })),
    )
    const seen: BusRecord[] = []
    const subscription = await first.subscribe({
      groupId: "g/1 ü",
      topics: ["a.b"],
      handler: async (record) => {
        seen.push(record)
      },
    })
    await waitFor("nine records", () => seen.length === 9, { timeoutMs: 10_000 })
    await subscription.stop()
    const committed = await first.committedOffsets("g/1 ü", "a.b")
    const marks = await first.watermarks("a.b")
    await first.close()

    const second = await openEmbeddedBus({ dataDir, logger: quietLogger })
    expect(await second.ensureTopics([topicSpec("a.b", 7)])).toEqual({ created: [], existing: ["a.b"] })
    expect(await second.partitions("a.b")).toBe(3)
    expect(await second.watermarks("a.b")).toEqual(marks)
    expect(await second.committedOffsets("g/1 ü", "a.b")).toEqual(committed)
    expect(committed.map((c) => c.offset).reduce((x, y) => x + y, 0)).toBe(9)
    expect((await readAll(second, "a.b")).map((r) => decode(r.value)).sort()).toEqual(
      Array.from({ length: 9 }, (_, i) => `${i}`),
    )
    const metadata = JSON.parse(readFileSync(join(dataDir, "topics", "a.b", "topic.json"), "utf8"))
    expect(metadata).toMatchObject({
      name: "a.b",
      partitions: 3,
      cleanupPolicy: "compact",
      retentionMs: 86_400_000,
    })
    await second.close()
  })

  it("lets one bus at a time own a data directory", async () => {
    const dataDir = await freshDir()
    const bus = await openEmbeddedBus({ dataDir, logger: quietLogger })
    await expect(openEmbeddedBus({ dataDir, logger: quietLogger })).rejects.toBeInstanceOf(DataDirLockedError)
    await bus.close()
    const next = await openEmbeddedBus({ dataDir, logger: quietLogger })
    await next.close()
  })

  it("rejects unknown topics, bad partitions and bad names, and a closed bus", async () => {
    const dataDir = await freshDir()
    const bus = await openEmbeddedBus({ dataDir, logger: quietLogger })
    await bus.ensureTopics([topicSpec("t", 2)])
    await expect(bus.publish([{ topic: "nope", key: null, value: encode("x") }])).rejects.toBeInstanceOf(
      TopicNotFoundError,
    )
    await expect(
      bus.publish([{ topic: "t", key: null, partition: 2, value: encode("x") }]),
    ).rejects.toBeInstanceOf(PartitionOutOfRangeError)
    // A bad record fails the whole batch before anything is written.
    await expect(
      bus.publish([
        { topic: "t", key: "fine", value: encode("x") },
        { topic: "t", key: null, partition: -1, value: encode("x") },
      ]),
    ).rejects.toBeInstanceOf(PartitionOutOfRangeError)
    expect((await bus.watermarks("t")).map((m) => m.high)).toEqual([0, 0])
    await expect(bus.ensureTopics([topicSpec("../escape", 1)])).rejects.toBeInstanceOf(InvalidTopicError)
    await expect(bus.ensureTopics([topicSpec("ok", 0)])).rejects.toBeInstanceOf(InvalidTopicError)
    await expect(
      bus.subscribe({ groupId: "g", topics: ["nope"], handler: async () => {} }),
    ).rejects.toBeInstanceOf(TopicNotFoundError)
    await bus.close()
    await expect(bus.publish([{ topic: "t", key: null, value: encode("x") }])).rejects.toBeInstanceOf(
      BusClosedError,
    )
    await expect(readAll(bus, "t")).rejects.toBeInstanceOf(BusClosedError)
  })

  it("fails a subscribe that races close instead of leaving a member behind", async () => {
    const dataDir = await freshDir()
    const bus = await openEmbeddedBus({ dataDir, logger: quietLogger })
    await bus.ensureTopics([topicSpec("t", 1)])
    const joining = bus.subscribe({ groupId: "g", topics: ["t"], handler: async () => {} })
    await bus.close()
    await expect(joining).rejects.toBeInstanceOf(BusClosedError)
    const crashing = await openEmbeddedBus({ dataDir, logger: quietLogger })
    const joiningCrash = crashing.subscribe({ groupId: "g", topics: ["t"], handler: async () => {} })
    await crashing.crash()
    await expect(joiningCrash).rejects.toBeInstanceOf(BusClosedError)
  })

  it("wakes an idle consumer on publish without polling", async () => {
    const dataDir = await freshDir()
    const bus = await openEmbeddedBus({ dataDir, logger: quietLogger })
    await bus.ensureTopics([topicSpec("t", 1)])
    const arrived: string[] = []
    let signal = Promise.withResolvers<void>()
    const idle = async () => {
      for (let turn = 0; turn < 100; turn++) await Promise.resolve()
    }
    // With every timer frozen, only an in-process notification can deliver.
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval", "setImmediate"] })
    try {
      await bus.subscribe({
        groupId: "g",
        topics: ["t"],
        handler: async (record) => {
          arrived.push(decode(record.value))
          signal.resolve()
        },
      })
      for (const value of ["one", "two"]) {
        await idle()
        await bus.publish([{ topic: "t", key: null, value: encode(value) }])
        await signal.promise
        signal = Promise.withResolvers<void>()
      }
      expect(arrived).toEqual(["one", "two"])
    } finally {
      vi.useRealTimers()
    }
    await bus.close()
  }, 10_000)

  it("provides the Bus service as an Effect layer and closes it with the scope", async () => {
    const dataDir = await freshDir()
    const program = Effect.gen(function* () {
      const bus = yield* Bus
      yield* Effect.promise(() => bus.ensureTopics([topicSpec("t", 1)]))
      yield* Effect.promise(() => bus.publish([{ topic: "t", key: null, value: encode("x") }]))
      return bus.kind
    })
    expect(
      await Effect.runPromise(Effect.provide(program, EmbeddedBusLive({ dataDir, logger: quietLogger }))),
    ).toBe("embedded")
    // The scope closed the bus: the directory is free again and the record is there.
    const bus = await openEmbeddedBus({ dataDir, logger: quietLogger })
    expect(await bus.watermarks("t")).toEqual([{ partition: 0, low: 0, high: 1 }])
    await bus.close()

    const locked = await openEmbeddedBus({ dataDir, logger: quietLogger })
    const exit = await Effect.runPromiseExit(
      Effect.provide(program, EmbeddedBusLive({ dataDir, logger: quietLogger })),
    )
    await locked.close()
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toContain("DataDirLockedError")
  })
})
