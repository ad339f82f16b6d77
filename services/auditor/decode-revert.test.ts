import { encodeErrorResult, parseAbi } from "viem"
import { describe, expect, it } from "vitest"
import { describeRevert } from "./decode-revert.ts"

const standard = parseAbi(["error Error(string)", "error Panic(uint256)"])
const errorString = (reason: string) =>
  encodeErrorResult({ abi: standard, errorName: "Error", args: [reason] })

describe("a recipient's revert in words", () => {
  it("given a whole Error(string), then it is the reason in quotes", () => {
    expect(describeRevert(errorString("not today"))).toBe('Error("not today")')
  })

  it("given an Error(string) cut short (the Inbox keeps a prefix), then it is as much of the reason as there is, marked truncated", () => {
    const whole = errorString("x".repeat(300))
    const cut = whole.slice(0, 2 + 2 * (4 + 64 + 100))
    expect(describeRevert(cut)).toBe(
      `Error("${"x".repeat(100)}"…) (truncated: 100 of 300 bytes of the reason)`,
    )
  })

  it("given a Panic, then its code is named", () => {
    expect(describeRevert(encodeErrorResult({ abi: standard, errorName: "Panic", args: [0x11n] }))).toBe(
      "Panic(0x11: arithmetic overflow or underflow)",
    )
    expect(describeRevert(encodeErrorResult({ abi: standard, errorName: "Panic", args: [0x99n] }))).toBe(
      "Panic(0x99: unknown panic code)",
    )
  })

  it("given no data or an unknown error, then it says so without pretending", () => {
    expect(describeRevert("0x")).toBe("reverted without a reason")
    expect(describeRevert("0xdeadbeef")).toMatch(/^custom error 0xdeadbeef/)
  })
})
