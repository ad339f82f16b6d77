/**
 * `Error(string)` and `Panic(uint256)` in words, whole or cut short at any
 * byte (issue 12: a truncated `Error(string)` was printed as raw hex).
 */
import { encodeErrorResult, parseAbi } from "viem"
import { describe, expect, it } from "vitest"
import { describeRevertData } from "./revert.ts"
import { describeRevertsIn, describeSolidityRevert } from "./solidity-revert.ts"

const standard = parseAbi(["error Error(string)", "error Panic(uint256)"])
const errorString = (reason: string) =>
  encodeErrorResult({ abi: standard, errorName: "Error", args: [reason] })
const panic = (code: bigint) => encodeErrorResult({ abi: standard, errorName: "Panic", args: [code] })
/** The first `bytes` bytes of revert data. */
const cut = (data: string, bytes: number) => data.slice(0, 2 + 2 * bytes)

describe("Solidity's built-in reverts in words", () => {
  it("given a whole Error(string) or Panic, then the reason or the panic's meaning", () => {
    expect(describeSolidityRevert(errorString("not today"))).toBe('Error("not today")')
    expect(describeSolidityRevert(panic(0x11n))).toBe("Panic(0x11: arithmetic overflow or underflow)")
  })

  it.each([
    [4 + 64 + 100, "(truncated: 100 of 300 bytes of the reason)"],
    [4 + 40, "(truncated: 40 of the at least 64 bytes before the reason's text)"],
    [4, "(truncated: 0 of the at least 64 bytes before the reason's text)"],
  ])(
    "given an Error(string) cut after %i bytes, then it says it is cut, never shows raw hex",
    (bytes, says) => {
      const described = describeSolidityRevert(cut(errorString("x".repeat(300)), bytes))!
      expect(described).toContain(says)
      expect(described).not.toMatch(/0x08c379a0/)
    },
  )

  it("given a Panic cut short, then it says so", () => {
    expect(describeSolidityRevert(cut(panic(0x32n), 4 + 10))).toBe(
      "Panic(…) (truncated: 10 of the 32 bytes of its code)",
    )
  })

  it("given other data, then it is not one of these", () => {
    expect(describeSolidityRevert("0xdeadbeef")).toBeUndefined()
  })

  it("given revert data quoted in a reason, cut with an ellipsis, then the reason says it in words", () => {
    const quoted = `estimate failed: reverted with unknown error data ${cut(errorString("no gas for you"), 37)}…`
    expect(describeRevertsIn(quoted)).toBe(
      "estimate failed: reverted with unknown error data Error(…) (truncated: 33 of the at least 64 bytes before the reason's text)…",
    )
  })

  it("given a writer decoding a cut Error(string), then its reason is in words (it used to be raw hex)", () => {
    const data = cut(errorString("x".repeat(300)), 4 + 64 + 10) as `0x${string}`
    expect(describeRevertData(data)).toBe(
      `Error("${"x".repeat(10)}"…) (truncated: 10 of 300 bytes of the reason)`,
    )
    expect(describeRevertData(errorString("whole") as `0x${string}`)).toBe('Error("whole")')
  })

  it("given revert data longer than any Inbox error (a lying RPC), then the reason says so and stays short", () => {
    // Whatever an RPC answers travels into DeliveryFailed and the step's read, both under the bus's record limit.
    const data = errorString("y".repeat(200_000)) as `0x${string}`
    const reason = describeRevertData(data)
    expect(reason).toMatch(/^Error with \d+ bytes of data, more than any Inbox error carries \(0x08c379a0/)
    expect(reason.length).toBeLessThan(300)
  })
})
