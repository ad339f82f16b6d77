import fc from "fast-check"
import { bytesToHex, keccak256 as viemKeccak256 } from "viem"
import { describe, expect, it } from "vitest"
import { keccak256, keccak256OfText } from "./keccak.ts"

describe("keccak256 (WebAssembly)", () => {
  it("gives viem's answer on every length around the 136-byte rate, as hex and as bytes", () => {
    for (const length of [0, 1, 31, 32, 33, 64, 135, 136, 137, 271, 272, 273, 1000, 100_000]) {
      const data = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff)
      expect(keccak256(data)).toBe(viemKeccak256(data))
      expect(keccak256(bytesToHex(data))).toBe(viemKeccak256(bytesToHex(data)))
      expect(keccak256(data, "bytes")).toEqual(viemKeccak256(data, "bytes"))
    }
  })

  it("gives viem's answer on any bytes, also when hashes follow each other on its one hasher", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 5 }), (inputs) => {
        const ours = inputs.map((data) => keccak256(data))
        expect(ours).toEqual(inputs.map((data) => viemKeccak256(data)))
      }),
    )
  })

  it("refuses hex that is not even-length 0x hex, naming it", () => {
    expect(() => keccak256("0x123" as `0x${string}`)).toThrow(/not even-length 0x hex/)
    expect(() => keccak256("0xzz" as `0x${string}`)).toThrow(/"0xzz"/)
  })

  it("hashes a text's UTF-8 bytes as viem hashes them: any text, lone surrogates, texts longer than its buffer", () => {
    const utf8 = (text: string) => new TextEncoder().encode(text)
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect(keccak256OfText(text)).toBe(viemKeccak256(utf8(text)))
      }),
    )
    for (const text of [
      "",
      "\ud800",
      "a\udc00b",
      "é".repeat(30_000),
      "\u{1f600}".repeat(20_000),
      "x".repeat(70_000),
    ])
      expect(keccak256OfText(text)).toBe(viemKeccak256(utf8(text)))
  })
})
