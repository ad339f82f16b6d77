import { randomBytes } from "node:crypto"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { describe, expect, it } from "vitest"
import { hashKey, keyedHash, RECENT_IDS, RecentIds } from "./recent-ids.ts"

/** The event id numbered `n`. */
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}`

/** What the window must hold: the last `capacity` distinct ids, re-adding one keeping its place. */
const reference = (capacity: number) => {
  const held = new Set<string>()
  const order: string[] = []
  return {
    has: (x: string) => held.has(x),
    add: (x: string) => {
      if (held.has(x)) return
      if (order.length === capacity) held.delete(order.shift()!)
      order.push(x)
      held.add(x)
    },
    size: () => held.size,
  }
}

describe("RecentIds", () => {
  it("given ids added past its capacity, when asked, then it holds the last `capacity` and forgets the oldest", () => {
    const ids = new RecentIds(3)
    for (const n of [1, 2, 3, 4]) ids.add(id(n))
    expect([1, 2, 3, 4].map((n) => ids.has(id(n)))).toEqual([false, true, true, true])
    expect(ids.size).toBe(3)
  })

  it("given an id added again while held, then it is not added twice and keeps its place", () => {
    const ids = new RecentIds(2)
    ids.add(id(1))
    ids.add(id(1))
    ids.add(id(2))
    expect([ids.has(id(1)), ids.has(id(2)), ids.size]).toEqual([true, true, 2])
    ids.add(id(3))
    expect([ids.has(id(1)), ids.has(id(2)), ids.has(id(3))]).toEqual([false, true, true])
  })

  it("given a million ids, then it never holds more than its default capacity", () => {
    const ids = new RecentIds()
    for (let i = 0; i < 1_000_000; i++) ids.add(id(i))
    expect(ids.size).toBe(RECENT_IDS)
    expect(ids.has(id(999_999))).toBe(true)
    expect(ids.has(id(1_000_000 - RECENT_IDS - 1))).toBe(false)
  })

  it("given the same sequence of ids, then two instances hold the same ids: a fold and the runtime agree", () => {
    const sequence = Array.from({ length: 50 }, (_, i) => id((i * 7) % 13))
    const [a, b] = [new RecentIds(5), new RecentIds(5)]
    const dropped = (ids: RecentIds) =>
      sequence.map((x) => {
        const held = ids.has(x)
        ids.add(x)
        return held
      })
    expect(dropped(a)).toEqual(dropped(b))
  })

  it("given random adds and re-adds over many evictions, then it answers as a set of the last `capacity` ids", () => {
    // Small capacities and a small id space: long probe runs, removals in the middle of runs, wrap-arounds.
    let seed = 7
    const next = (bound: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
      return seed % bound
    }
    for (const capacity of [1, 2, 3, 5, 8, 13, 64]) {
      const ids = new RecentIds(capacity)
      const model = reference(capacity)
      for (let step = 0; step < 20_000; step++) {
        const x = id(next(capacity * 3))
        expect(ids.has(x)).toBe(model.has(x))
        ids.add(x)
        model.add(x)
        expect(ids.size).toBe(model.size())
      }
      for (let n = 0; n < capacity * 3; n++) expect(ids.has(id(n))).toBe(model.has(id(n)))
    }
  })

  it("given ids that differ only in their last byte, or only in their first, then each is its own id", () => {
    const ids = new RecentIds(8)
    const tail = (b: number) => `0x${"ab".repeat(31)}${b.toString(16).padStart(2, "0")}`
    const head = (b: number) => `0x${b.toString(16).padStart(2, "0")}${"ab".repeat(31)}`
    for (const b of [1, 2, 3]) ids.add(tail(b))
    for (const b of [1, 2, 3]) ids.add(head(b))
    expect([tail(1), tail(2), tail(3), head(1), head(2), head(3)].every((x) => ids.has(x))).toBe(true)
    expect(ids.has(tail(4))).toBe(false)
    expect(ids.has(head(4))).toBe(false)
  })

  it("given ids that differ only in the top bits of their words, or only in the bottom ones, then the keyed hash spreads them over the index", () => {
    // A multiply carries low bits up, never high bits down: a hash that only multiplied would put all of the
    // first family in one slot whatever its key, and lookups in a full window would walk every entry.
    const slots = 8192
    const spread = (word: (n: number, i: number) => number) => {
      const key = hashKey()
      const seen = new Set<number>()
      const words = new Uint32Array(8)
      for (let n = 0; n < RECENT_IDS; n++) {
        for (let i = 0; i < 8; i++) words[i] = word(n, i) >>> 0
        seen.add(keyedHash(words, 0, key) & (slots - 1))
      }
      return seen.size
    }
    // 4,096 ids thrown at random into 8,192 slots fill about 3,200 of them.
    expect(spread((n, i) => ((n >>> (i * 2)) & 3) << 30)).toBeGreaterThan(2_800)
    expect(spread((n, i) => (n >>> (i * 2)) & 3)).toBeGreaterThan(2_800)
    expect(spread((n, i) => (i === 7 ? n : 0))).toBeGreaterThan(2_800)
  })

  it("refuses anything but an event id, naming it: two spellings of one id can never be taken for one", () => {
    const ids = new RecentIds(4)
    for (const bad of [
      "a",
      `0x${"AB".repeat(32)}`,
      `0x${"ab".repeat(31)}`,
      `0x${"ab".repeat(32)}00`,
      "ab".repeat(33),
    ])
      expect(() => ids.add(bad)).toThrow(RangeError)
    expect(() => ids.has("0xzz")).toThrow(/event ids .*got "0xzz"/)
    expect(ids.size).toBe(0)
  })

  it("takes its memory when made: filling it to capacity keeps no input's id alive", () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const ids = new RecentIds()
    const heapAfterGc = () => {
      gc()
      gc()
      return process.memoryUsage().heapUsed
    }
    const before = heapAfterGc()
    // Fresh strings, as inputs' ids are: a window that kept them would hold ~0.6 MB of them once full.
    for (let i = 0; i < RECENT_IDS * 2; i++) ids.add(`0x${randomBytes(32).toString("hex")}`)
    const grown = heapAfterGc() - before
    expect(ids.size).toBe(RECENT_IDS)
    expect(grown).toBeLessThan(100_000)
  })

  it("refuses a capacity that is not a positive integer, naming it", () => {
    expect(() => new RecentIds(0)).toThrow(/integer from 1 to 2\^24, got 0/)
    expect(() => new RecentIds(1.5)).toThrow(/got 1.5/)
  })
})
