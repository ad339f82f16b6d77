import { describe, expect, it } from "vitest"
import type { BusRecord } from "./port.ts"
import { MAX_REMEMBERED, RecordMemo } from "./record-memo.ts"

const record = (offset: number, value: string, headers: Record<string, string> = {}): BusRecord => ({
  topic: "chorus.messages.observed",
  partition: 2,
  offset,
  timestamp: 0,
  key: "lane",
  value: new TextEncoder().encode(value),
  headers,
})

describe("RecordMemo", () => {
  it("answers a record once however many consumers read it", () => {
    const memo = new RecordMemo<string>()
    let asked = 0
    const ask = (r: BusRecord) => `answer ${++asked} ${new TextDecoder().decode(r.value)}`
    const answers = [1, 2, 3].map(() => memo.answer(record(7, "a"), ask))
    expect(answers).toEqual(["answer 1 a", "answer 1 a", "answer 1 a"])
  })

  it("answers afresh a record at the same position with other bytes, another key or other headers", () => {
    const memo = new RecordMemo<number>()
    let asked = 0
    const ask = () => ++asked
    memo.answer(record(7, "a"), ask)
    expect(memo.answer(record(7, "b"), ask)).toBe(2)
    expect(memo.answer({ ...record(7, "b"), key: "other" }, ask)).toBe(3)
    expect(memo.answer(record(7, "b", { "chorus-id": "0x1" }), ask)).toBe(4)
    expect(memo.answer(record(7, "b", { "chorus-id": "0x1" }), ask)).toBe(4)
    expect(memo.answer(record(7, "b", { "chorus-id": "0x2" }), ask)).toBe(5)
  })

  it("keeps a copy of a value that is a view into a larger buffer: the reader reusing that buffer changes nothing remembered", () => {
    const memo = new RecordMemo<string>()
    const response = new Uint8Array(64)
    const reused = { ...record(1, ""), value: response.subarray(8, 9) }
    reused.value.set(new TextEncoder().encode("a"))
    memo.answer(reused, () => "for a")
    response.set(new TextEncoder().encode("b"), 8) // the next fetch response, written into the same buffer
    expect(memo.answer(reused, () => "for b")).toBe("for b")
    expect(memo.answer({ ...record(1, ""), value: response.slice(8, 9) }, () => "asked again")).toBe("for b")
  })

  it("forgets the oldest answer past its bound, counting an answer remembered again from its last time", () => {
    const memo = new RecordMemo<number>()
    let asked = 0
    const ask = () => ++asked
    for (let offset = 0; offset <= MAX_REMEMBERED; offset++) memo.answer(record(offset, "x"), ask)
    expect(asked).toBe(MAX_REMEMBERED + 1)
    memo.answer(record(MAX_REMEMBERED, "x"), ask)
    expect(asked).toBe(MAX_REMEMBERED + 1)
    memo.answer(record(0, "x"), ask)
    expect(asked).toBe(MAX_REMEMBERED + 2)
    // Offset 2 answered afresh (other bytes) is now the newest: the next two new records push out 3 and 4, not it.
    memo.answer(record(2, "y"), ask)
    memo.answer(record(MAX_REMEMBERED + 1, "x"), ask)
    memo.answer(record(MAX_REMEMBERED + 2, "x"), ask)
    const before = asked
    memo.answer(record(2, "y"), ask)
    expect(asked).toBe(before)
    memo.answer(record(5, "x"), ask)
    expect(asked).toBe(before)
    memo.answer(record(3, "x"), ask)
    expect(asked).toBe(before + 1)
  })
})
