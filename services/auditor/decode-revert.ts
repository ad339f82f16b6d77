import { type Abi, decodeErrorResult, type Hex } from "viem"
import { gatedRecipientAbi, inboxAbi, pingRecipientAbi } from "../../contracts/index.ts"

/** Errors a recipient or the Inbox may revert with, besides `Error(string)` and `Panic(uint256)`. */
const KNOWN_ERRORS: Abi = [...gatedRecipientAbi, ...pingRecipientAbi, ...inboxAbi].filter(
  (item) => item.type === "error",
)

/**
 * A recipient's revert data in words: `Error(string)`, `Panic(uint256)` and
 * the errors of Chorus's own contracts are decoded; any other error is shown
 * by its selector and raw bytes.
 *
 * @example
 * ```ts
 * describeRevert("0x08c379a0…") // 'Error("not today")'
 * ```
 */
export const describeRevert = (data: string | null | undefined): string => {
  if (data === null || data === undefined || data === "0x") return "reverted without a reason"
  try {
    const decoded = decodeErrorResult({ abi: KNOWN_ERRORS, data: data as Hex })
    // The Inbox wraps a recipient's revert on retry: show the recipient's own reason.
    if (
      decoded.errorName === "RetryFailed" &&
      Array.isArray(decoded.args) &&
      typeof decoded.args[1] === "string"
    )
      return `the recipient reverted again: ${describeRevert(decoded.args[1])}`
    return `${decoded.errorName}(${(decoded.args ?? []).map((arg) => (typeof arg === "string" ? arg : String(arg))).join(", ")})`
  } catch {
    return `custom error ${data.slice(0, 10)} (data ${data.length > 74 ? `${data.slice(0, 74)}…` : data})`
  }
}
