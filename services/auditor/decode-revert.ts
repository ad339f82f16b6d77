/**
 * Revert data in words, for timelines: `Error(string)` and `Panic(uint256)`
 * whole or cut short (the one decoder of `chains/`), the errors of Chorus's
 * own contracts (the Inbox, the test recipients), and revert data quoted
 * inside a reason recorded as text.
 *
 * @module
 */
import type { Abi, Hex } from "viem"
import { decodeErrorResult } from "viem/utils"
import { describeRevertsIn, describeSolidityRevert } from "../../chains/evm/solidity-revert.ts"
import { gatedRecipientAbi } from "../../contracts/out/GatedRecipient.ts"
import { inboxAbi } from "../../contracts/out/Inbox.ts"
import { pingRecipientAbi } from "../../contracts/out/PingRecipient.ts"

/** Errors a recipient or the Inbox may revert with, besides `Error(string)` and `Panic(uint256)`. */
const KNOWN_ERRORS: Abi = [...gatedRecipientAbi, ...pingRecipientAbi, ...inboxAbi].filter(
  (item) => item.type === "error",
)

const excerpt = (data: string) => (data.length > 74 ? `${data.slice(0, 74)}…` : data)

/**
 * A recipient's revert data in words: `Error(string)` (also when cut short), `Panic(uint256)` with its
 * meaning, and the errors of Chorus's own contracts are decoded; any other error is shown by its selector and
 * raw bytes.
 *
 * @example
 * ```ts
 * describeRevert("0x08c379a0…") // 'Error("not today")'
 * describeRevert("0x4e487b71…11") // "Panic(0x11: arithmetic overflow or underflow)"
 * ```
 */
export const describeRevert = (data: string | null | undefined): string => {
  if (data === null || data === undefined || data === "0x") return "reverted without a reason"
  const builtIn = describeSolidityRevert(data)
  if (builtIn !== undefined) return builtIn
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
    return `custom error ${data.slice(0, 10)} (data ${excerpt(data)})`
  }
}

/**
 * Why a transaction failed, from what was recorded: its revert data in words when there is some, else the
 * recorded reason with any revert data it quotes in words (a failed estimate records no transaction, and may
 * record its revert only as text).
 *
 * @example
 * ```ts
 * describeFailure("InsufficientGas(nonce=16, …)", "0x") // "InsufficientGas(nonce=16, …)"
 * describeFailure("estimate failed: 0x08c379a0…", null) // 'estimate failed: Error("not today")'
 * ```
 */
export const describeFailure = (reason: unknown, revertData: unknown): string => {
  if (typeof revertData === "string" && revertData !== "0x" && revertData !== "")
    return describeRevert(revertData)
  return describeRevertsIn(typeof reason === "string" ? reason : String(reason ?? "no reason recorded"))
}
