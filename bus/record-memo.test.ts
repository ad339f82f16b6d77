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

  it("keeps its own copy of the bytes: a buffer reused by the reader does not change what is remembered", () => {
    const memo = new RecordMemo<string>()
    const reused = record(1, "a")
    memo.answer(reused, () => "for a")
    reused.value.set(new TextEncoder().encode("b"))
    expect(memo.answer(reused, () => "for b")).toBe("for b")
  })

  it("forgets the oldest answer past its bound", () => {
    const memo = new RecordMemo<number>()
    let asked = 0
    const ask = () => ++asked
    for (let offset = 0; offset <= MAX_REMEMBERED; offset++) memo.answer(record(offset, "x"), ask)
    expect(asked).toBe(MAX_REMEMBERED + 1)
    memo.answer(record(MAX_REMEMBERED, "x"), ask)
    expect(asked).toBe(MAX_REMEMBERED + 1)
    memo.answer(record(0, "x"), ask)
    expect(asked).toBe(MAX_REMEMBERED + 2)
  })
})
