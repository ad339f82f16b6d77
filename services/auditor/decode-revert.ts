import { decodeErrorResult, type Hex } from "viem"

/**
 * A recipient's revert data in words: `Error(string)` and `Panic(uint256)`
 * are decoded; any other error is shown by its selector and raw bytes.
 *
 * @example
 * ```ts
 * describeRevert("0x08c379a0…") // 'Error("not today")'
 * ```
 */
export const describeRevert = (data: string | null | undefined): string => {
  if (data === null || data === undefined || data === "0x") return "reverted without a reason"
  try {
    const decoded = decodeErrorResult({ abi: [], data: data as Hex })
    return `${decoded.errorName}(${(decoded.args ?? []).map((arg) => JSON.stringify(String(arg))).join(", ")})`
  } catch {
    return `custom error ${data.slice(0, 10)} (data ${data.length > 74 ? `${data.slice(0, 74)}…` : data})`
  }
}
