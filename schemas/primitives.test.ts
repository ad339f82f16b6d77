import { Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { issuesOf } from "./decode-error.ts"
import { Address, Bytes32, ChainId, Hex, IsoTime, toAddress, toU256, U256, Uint } from "./primitives.ts"

const reject = (schema: Schema.Codec<unknown, unknown>, input: unknown): string => {
  const exit = Schema.decodeUnknownExit(schema)(input)
  if (Exit.isSuccess(exit)) throw new Error(`accepted ${JSON.stringify(input)}`)
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")!.error
  return issuesOf(error)[0]!.message
}
const accept = (schema: Schema.Codec<unknown, unknown>, input: unknown) =>
  expect(Exit.isSuccess(Schema.decodeUnknownExit(schema)(input))).toBe(true)

describe("primitives", () => {
  it("Hex takes even-length lowercase hex only", () => {
    accept(Hex, "0x")
    accept(Hex, "0x00ff")
    expect(reject(Hex, "0x0")).toMatch(/even number of lowercase hex digits/)
    expect(reject(Hex, "0xAB")).toMatch(/lowercase/)
    expect(reject(Hex, "abcd")).toMatch(/0x/)
    expect(reject(Hex, 12)).toMatch(/Expected string/)
  })

  it("Address and Bytes32 take their exact widths", () => {
    accept(Address, `0x${"a".repeat(40)}`)
    expect(reject(Address, `0x${"a".repeat(39)}`)).toMatch(/an address/)
    expect(reject(Address, `0x${"A".repeat(40)}`)).toMatch(/an address/)
    accept(Bytes32, `0x${"0".repeat(64)}`)
    expect(reject(Bytes32, `0x${"0".repeat(62)}`)).toMatch(/32 bytes/)
  })

  it("ChainId and Uint are safe integers", () => {
    accept(ChainId, 901)
    expect(reject(ChainId, 0)).toMatch(/positive safe integer/)
    expect(reject(ChainId, 1.5)).toMatch(/positive safe integer/)
    expect(reject(ChainId, "901")).toMatch(/Expected number/)
    accept(Uint, 0)
    expect(reject(Uint, -1)).toMatch(/non-negative/)
    expect(reject(Uint, 2 ** 53)).toMatch(/non-negative safe integer/)
  })

  it("U256 is a canonical decimal string within range", () => {
    accept(U256, "0")
    accept(U256, ((1n << 256n) - 1n).toString())
    expect(reject(U256, (1n << 256n).toString())).toMatch(/exceeds 2\^256 - 1/)
    expect(reject(U256, "007")).toMatch(/leading zeros/)
    expect(reject(U256, "-1")).toMatch(/no sign/)
    expect(reject(U256, "1e18")).toMatch(/decimal string/)
    expect(reject(U256, 5)).toMatch(/Expected string/)
    expect(toU256(10n ** 18n)).toBe("1000000000000000000")
  })

  it("IsoTime is a UTC toISOString time", () => {
    accept(IsoTime, "2026-11-21T10:00:00.000Z")
    expect(reject(IsoTime, "2026-11-21")).toMatch(/ISO-8601/)
    expect(reject(IsoTime, "2026-13-45T99:00:00.000Z")).toMatch(/ISO-8601/)
  })

  it("toAddress lowercases checksummed addresses", () => {
    expect(toAddress("0xAbC0000000000000000000000000000000000001")).toBe(
      "0xabc0000000000000000000000000000000000001",
    )
    expect(() => toAddress("0x12")).toThrow(/Not an address: "0x12"/)
  })
})
