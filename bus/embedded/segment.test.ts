/**
 * One partition's segment and its in-memory index: the index stays sparse
 * (memory does not grow a number per record, however long the log runs), and
 * every read and timestamp look-up through it matches a plain model, for
 * readers at the tail, readers far behind going forward, and random reads.
 */
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { quietLogger } from "../../test/fixtures/embedded-bus.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import { type AppendRecord, INDEX_SPACING, type IndexSpacing, PartitionLog, readPlace } from "./segment.ts"

const dirs = useTempDirs("chorus-segment-")

const open = async (spacing?: IndexSpacing, dir?: string) => {
  const file = join(dir ?? (await dirs()), "0.log")
  return PartitionLog.open({ file, topic: "t", partition: 0, fsync: false, logger: quietLogger, spacing })
}

/** Two numbers per block, and the fixed window. */
const bound = (records: number) => 2 * Math.ceil(records / INDEX_SPACING.every) + INDEX_SPACING.recent

const record = (i: number, timestamp: number): AppendRecord => ({
  timestamp,
  key: i % 3 === 0 ? null : `k${i}`,
  value: new TextEncoder().encode(`value ${i} `.repeat(1 + (i % 7))),
  headers: i % 2 === 0 ? {} : { h: String(i) },
})

/** The first offset whose timestamp is at or after `t` counting the running maximum, as the port defines it. */
const modelOffsetFor = (timestamps: ReadonlyArray<number>, t: number) => {
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < timestamps.length; i++) {
    max = Math.max(max, timestamps[i]!)
    if (max >= t) return i
  }
  return timestamps.length
}

describe("segment index: memory", () => {
  it("holds a few numbers per block of records, not two per record", async () => {
    // Given a partition with the default spacing
    const log = await open()
    // When 20,000 records are appended, in batches as services publish them
    for (let i = 0; i < 20_000; i += 10) {
      log.append(Array.from({ length: 10 }, (_, j) => record(i + j, 1_000 + i + j)))
    }
    // Then the index holds two numbers per block of records, beyond its fixed window
    expect(log.high).toBe(20_000)
    expect(log.indexEntries).toBeLessThanOrEqual(bound(20_000))
    // And the oldest record still reads back
    expect(new TextDecoder().decode(log.read(0).value)).toBe(`value 0 `)
    log.close()
  })

  it("keeps the same bound after a reopen, which scans the file again", async () => {
    const dir = await dirs()
    const first = await open(undefined, dir)
    for (let i = 0; i < 5_000; i += 50) {
      first.append(Array.from({ length: 50 }, (_, j) => record(i + j, i + j)))
    }
    first.close()
    const again = await open(undefined, dir)
    expect(again.high).toBe(5_000)
    expect(again.indexEntries).toBeLessThanOrEqual(bound(5_000))
    expect(again.read(4_321).offset).toBe(4_321)
    again.close()
  })
})

describe("segment index: a read never returns another record", () => {
  it("refuses a frame that holds another offset than the one asked for", async () => {
    // Given a partition past its window of recent positions, and a reader's place for record 10
    const log = await open({ every: 4, recent: 2 })
    for (let i = 0; i < 20; i++) log.append([record(i, i)])
    const place = readPlace()
    log.read(9, place)
    expect(place.offset).toBe(10)
    // When the place is handed to a read of record 12 (a bug, or the file rewritten under the reader)
    // Then the read fails, naming the offsets, instead of returning record 10 as record 12
    expect(() => log.read(12, { ...place, offset: 12 })).toThrow(/holds offset 10, not 12/)
    // And the record read from the index is right
    expect(log.read(12, place).offset).toBe(12)
    log.close()
  })
})

describe("segment index: reads and look-ups match a model", () => {
  // A tiny spacing and window, so every path (the window, a reader's place, a walk from a block) is taken.
  const spacing: IndexSpacing = { every: 4, recent: 6 }

  it("for any appends, reopenings and reads", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            {
              weight: 4,
              arbitrary: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 9 }),
            },
            { weight: 1, arbitrary: fc.constant("reopen" as const) },
          ),
          { minLength: 1, maxLength: 14 },
        ),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: -1, max: 62 }), { minLength: 1, maxLength: 10 }),
        async (operations, readPicks, lookUps) => {
          const dir = await dirs()
          let log = await open(spacing, dir)
          const timestamps: number[] = []
          const follower = readPlace()
          let followed = 0
          const check = () => {
            expect(log.high).toBe(timestamps.length)
            if (timestamps.length === 0) return
            // Random reads, then two readers going forward from different places, interleaved.
            for (const pick of readPicks) {
              const offset = pick % timestamps.length
              const read = log.read(offset)
              expect(read.offset).toBe(offset)
              expect(read.timestamp).toBe(timestamps[offset])
              expect(new TextDecoder().decode(read.value)).toBe(
                new TextDecoder().decode(record(offset, 0).value),
              )
            }
            const a = readPlace()
            const b = readPlace()
            let nextA = 0
            let nextB = readPicks[0]! % timestamps.length
            while (nextA < timestamps.length || nextB < timestamps.length) {
              if (nextA < timestamps.length) expect(log.read(nextA, a).offset).toBe(nextA++)
              if (nextB < timestamps.length) expect(log.read(nextB, b).timestamp).toBe(timestamps[nextB++])
            }
            // A reader that keeps its place across appends (and reopenings) reads on where it stopped.
            for (; followed < timestamps.length; followed++) {
              expect(log.read(followed, follower).timestamp).toBe(timestamps[followed])
            }
            for (const t of lookUps) expect(log.offsetForTimestamp(t)).toBe(modelOffsetFor(timestamps, t))
          }
          for (const operation of operations) {
            if (operation === "reopen") {
              log.close()
              log = await open(spacing, dir)
            } else {
              const first = log.append(operation.map((t, i) => record(timestamps.length + i, t)))
              expect(first).toBe(timestamps.length)
              timestamps.push(...operation)
            }
            check()
          }
          log.close()
        },
      ),
      { numRuns: 60 },
    )
  })
})
