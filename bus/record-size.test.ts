import { describe, expect, it } from "vitest"
import { assertRecordSize, RecordTooLargeError, recordSize } from "./record-size.ts"

describe("a record's size", () => {
  it("counts the value, the key and the headers in UTF-8 bytes", () => {
    expect(recordSize({ topic: "t", key: null, value: new Uint8Array(10) })).toBe(10)
    // "é" is two bytes and "€" three in UTF-8.
    expect(
      recordSize({ topic: "t", key: "clé", value: new Uint8Array(1), headers: { "x-€": "ab", id: "" } }),
    ).toBe(1 + 4 + 5 + 2 + 2)
  })

  it("refuses a record over the limit, naming its topic and size", () => {
    const record = { topic: "chorus.messages.proven", key: "lane", value: new Uint8Array(101) }
    expect(() => assertRecordSize(record, 100)).toThrow(RecordTooLargeError)
    expect(() => assertRecordSize(record, 100)).toThrow(/chorus\.messages\.proven is 105 bytes/)
    expect(() => assertRecordSize(record, 105)).not.toThrow()
  })
})
