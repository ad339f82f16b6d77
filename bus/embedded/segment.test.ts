/**
 * One partition's segment and its in-memory index: the index stays sparse
 * (memory does not grow a number per record, however long the log runs), and
 * every read and timestamp look-up through it matches a plain model, for
 * readers at the tail, readers far behind going forward, and random reads.
 */
import { closeSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { quietLogger } from "../../test/fixtures/embedded-bus.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import { SegmentCorruptError } from "./errors.ts"
import { encodeFrame, FRAME_HEADER_BYTES } from "./frame.ts"
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
  it("drops a reader's place that holds another record, and reads the one asked for", async () => {
    // Given a partition past its window of recent positions, and a reader's place for record 10
    const log = await open({ every: 4, recent: 2 })
    for (let i = 0; i < 20; i++) log.append([record(i, i)])
    const place = readPlace()
    log.read(9, place)
    expect(place.offset).toBe(10)
    // When the place is handed to a read of record 12 (a bug, or the file rewritten under the reader)
    const wrong = { ...place, offset: 12 }
    // Then the read returns record 12, found from the index, not record 10 as record 12
    expect(log.read(12, wrong).offset).toBe(12)
    expect(wrong.offset).toBe(13)
    log.close()
  })
})

describe("segment index: a file changed after open", () => {
  const filled = async (count: number, middle?: Uint8Array) => {
    const dir = await dirs()
    const log = await open({ every: 64, recent: 4 }, dir)
    for (let i = 0; i < count; i++) {
      log.append([i === 1 && middle !== undefined ? { ...record(i, i), value: middle } : record(i, i)])
    }
    return { log, file: join(dir, "0.log") }
  }
  /** Rewrites the length field of the frame at `position`. */
  const rewriteLength = (file: string, position: number, length: number) => {
    const fd = openSync(file, "r+")
    const bytes = Buffer.alloc(4)
    bytes.writeUInt32BE(length)
    writeSync(fd, bytes, 0, 4, position)
    closeSync(fd)
  }
  const lengthAt = (file: string, position: number) => readFileSync(file).readUInt32BE(position)

  it("never follows a changed length field into a frame hidden in a record's value", async () => {
    // Given record 1 whose value holds a well-formed frame claiming offset 2, behind the window
    const hidden = encodeFrame({
      offset: 2,
      timestamp: 2,
      key: "evil",
      value: Buffer.from("FORGED"),
      headers: {},
    })
    const { log, file } = await filled(100, hidden)
    // When record 1's length field (outside the CRC) is changed to end where the hidden frame starts
    const second = FRAME_HEADER_BYTES + lengthAt(file, 0)
    const valueAt = second + FRAME_HEADER_BYTES + 1 + 1 + 8 + 8 + 4 + 4 + "k1".length
    rewriteLength(file, second, valueAt - second - FRAME_HEADER_BYTES)
    // Then reading record 2 fails, naming the frame, and never returns the hidden one
    expect(() => log.read(2)).toThrow(SegmentCorruptError)
    // And record 0, before the damage, still reads
    expect(log.read(0).offset).toBe(0)
    log.close()
  })

  it("refuses a length field that claims the rest of the file, before allocating it", async () => {
    const { log, file } = await filled(100)
    const second = FRAME_HEADER_BYTES + lengthAt(file, 0)
    rewriteLength(file, second, statSync(file).size - second - FRAME_HEADER_BYTES)
    expect(() => log.read(1)).toThrow(/a frame of \d+ bytes is declared where every frame of this log is/)
    log.close()
  })

  it("answers a timestamp look-up from checked frames only, and not through a closed file", async () => {
    const { log, file } = await filled(100)
    const bytes = readFileSync(file)
    // Flip a bit of record 10's timestamp: the look-up walks over it and must not trust it.
    let position = 0
    for (let i = 0; i < 10; i++) position += FRAME_HEADER_BYTES + bytes.readUInt32BE(position)
    bytes[position + FRAME_HEADER_BYTES + 10 + 7]! ^= 0x80
    writeFileSync(file, bytes)
    expect(() => log.offsetForTimestamp(50)).toThrow(SegmentCorruptError)
    log.close()
    expect(() => log.offsetForTimestamp(50)).toThrow(/is closed/)
  })

  it("indexes the timestamp the frame stores (whole milliseconds)", async () => {
    const log = await open()
    log.append([record(0, 10.7)])
    expect(log.read(0).timestamp).toBe(10)
    expect(log.offsetForTimestamp(10)).toBe(0)
    expect(log.offsetForTimestamp(10.5)).toBe(1)
    log.close()
  })

  it("reads the right record whatever place a reader hands it, whatever bytes it says it read ahead", async () => {
    const { log } = await filled(100)
    const { log: other } = await filled(100)
    const good = readPlace()
    for (let offset = 0; offset < 5; offset++) log.read(offset, good)
    for (const ahead of [
      undefined,
      good.ahead, // the right bytes
      { log, start: 0, bytes: Buffer.alloc(1 << 16) }, // zeros where the records are
      { log, start: 0, bytes: Buffer.alloc(1 << 16, 0xff) },
      { log: other, start: 0, bytes: Buffer.from(good.ahead!.bytes) }, // another log's
    ]) {
      for (const place of [
        { offset: 5, position: good.position, length: good.length },
        { offset: 5, position: 0, length: undefined },
        { offset: 3, position: 0, length: undefined }, // a place for another record: the index finds 5
      ]) {
        expect(log.read(5, { ...place, ahead }).offset).toBe(5)
      }
    }
    other.close()
    for (const place of [
      { position: Number.NaN, length: undefined },
      { position: -1, length: undefined },
      { position: 1.5, length: undefined },
      { position: 0, length: undefined },
      { position: 0, length: Number.NaN },
      { position: 0, length: 2 ** 40 },
      { position: 0, length: -5 },
    ]) {
      expect(log.read(5, { offset: 5, ...place, ahead: undefined }).offset).toBe(5)
    }
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
