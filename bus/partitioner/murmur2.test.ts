import { createRequire } from "node:module"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { murmur2, partitionForKey, roundRobin, toPositive } from "./index.ts"

const require = createRequire(import.meta.url)
// kafkajs's own implementation is the reference: the Kafka adapter partitions with it.
const kafkajsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2.js") as (
  key: Buffer | string,
) => number
const { Partitioners } = require("kafkajs") as {
  Partitioners: {
    DefaultPartitioner: () => (args: {
      topic: string
      partitionMetadata: ReadonlyArray<{ partitionId: number; leader: number }>
      message: { key?: Buffer | string | null; partition?: number | null }
    }) => number
  }
}

const utf8 = (s: string) => new TextEncoder().encode(s)

describe("murmur2", () => {
  // From Kafka's own UtilsTest.testMurmur2.
  it.each([
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ])("matches Kafka's known vector for %j", (key, expected) => {
    expect(murmur2(utf8(key))).toBe(expected)
    expect(kafkajsMurmur2(key)).toBe(expected)
  })

  it("agrees with kafkajs on random byte strings", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)))
      }),
      { numRuns: 5000 },
    )
  })

  it("agrees with kafkajs on random unicode keys", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (key) => {
        expect(murmur2(utf8(key))).toBe(kafkajsMurmur2(key))
      }),
      { numRuns: 3000 },
    )
  })

  it("toPositive clears the sign bit like Kafka's Utils.toPositive", () => {
    expect(toPositive(-1)).toBe(0x7fffffff)
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(5)).toBe(5)
  })
})

describe("partitionForKey", () => {
  it("picks the partition kafkajs's DefaultPartitioner picks", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (key, partitions) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
          partitionId,
          leader: 0,
        }))
        const kafkajs = Partitioners.DefaultPartitioner()({ topic: "t", partitionMetadata, message: { key } })
        expect(partitionForKey(key, partitions)).toBe(kafkajs)
      }),
      { numRuns: 3000 },
    )
  })

  it("rejects a partition count that is not a positive integer", () => {
    expect(() => partitionForKey("k", 0)).toThrow(RangeError)
    expect(() => partitionForKey("k", 1.5)).toThrow(RangeError)
  })
})

describe("roundRobin", () => {
  it("cycles over the partitions, per topic", () => {
    const rr = roundRobin()
    expect([0, 1, 2, 3].map(() => rr.next("a", 3))).toEqual([0, 1, 2, 0])
    expect(rr.next("b", 3)).toBe(0)
  })
})
