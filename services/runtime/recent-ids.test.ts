import { describe, expect, it } from "vitest"
import { RECENT_IDS, RecentIds } from "./recent-ids.ts"

describe("RecentIds", () => {
  it("given ids added past its capacity, when asked, then it holds the last `capacity` and forgets the oldest", () => {
    const ids = new RecentIds(3)
    for (const id of ["a", "b", "c", "d"]) ids.add(id)
    expect(["a", "b", "c", "d"].map((id) => ids.has(id))).toEqual([false, true, true, true])
    expect(ids.size).toBe(3)
  })

  it("given an id added again while held, then it is not added twice and keeps its place", () => {
    const ids = new RecentIds(2)
    ids.add("a")
    ids.add("a")
    ids.add("b")
    expect([ids.has("a"), ids.has("b"), ids.size]).toEqual([true, true, 2])
    ids.add("c")
    expect([ids.has("a"), ids.has("b"), ids.has("c")]).toEqual([false, true, true])
  })

  it("given a million ids, then it never holds more than its default capacity", () => {
    const ids = new RecentIds()
    for (let i = 0; i < 1_000_000; i++) ids.add(`0x${i.toString(16).padStart(64, "0")}`)
    expect(ids.size).toBe(RECENT_IDS)
    expect(ids.has(`0x${(999_999).toString(16).padStart(64, "0")}`)).toBe(true)
    expect(ids.has(`0x${(1_000_000 - RECENT_IDS - 1).toString(16).padStart(64, "0")}`)).toBe(false)
  })

  it("given the same sequence of ids, then two instances hold the same ids: a fold and the runtime agree", () => {
    const sequence = Array.from({ length: 50 }, (_, i) => String((i * 7) % 13))
    const [a, b] = [new RecentIds(5), new RecentIds(5)]
    const dropped = (ids: RecentIds) =>
      sequence.map((id) => {
        const held = ids.has(id)
        ids.add(id)
        return held
      })
    expect(dropped(a)).toEqual(dropped(b))
  })

  it("refuses a capacity that is not a positive integer, naming it", () => {
    expect(() => new RecentIds(0)).toThrow(/positive integer, got 0/)
  })
})
