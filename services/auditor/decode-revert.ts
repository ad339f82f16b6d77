import { type Abi, decodeErrorResult, type Hex, hexToBigInt } from "viem"
import { gatedRecipientAbi, inboxAbi, pingRecipientAbi } from "../../contracts/index.ts"

/** Errors a recipient or the Inbox may revert with, besides `Error(string)` and `Panic(uint256)`. */
const KNOWN_ERRORS: Abi = [...gatedRecipientAbi, ...pingRecipientAbi, ...inboxAbi].filter(
  (item) => item.type === "error",
)

const ERROR_STRING = "0x08c379a0"
const PANIC = "0x4e487b71"

/** Solidity's panic codes, as its documentation names them. */
const PANIC_CODES: Readonly<Record<number, string>> = {
  0: "generic compiler panic",
  1: "assert failed",
  17: "arithmetic overflow or underflow",
  18: "division or modulo by zero",
  33: "conversion to an invalid enum value",
  34: "incorrectly encoded storage byte array",
  49: "pop on an empty array",
  50: "array index out of bounds",
  65: "too much memory allocated",
  81: "call to a zero-initialized function",
}

const utf8 = new TextDecoder("utf-8", { fatal: false })

/**
 * An `Error(string)` whose data was cut short (the Inbox keeps only a prefix of a recipient's revert data, so
 * a long reason arrives truncated and no ABI decoder takes it): as much of the string as the data holds.
 */
const truncatedErrorString = (data: Hex): string | undefined => {
  const bytes = Buffer.from(data.slice(2), "hex")
  if (bytes.length < 4 + 64) return undefined
  const length = Number(hexToBigInt(`0x${bytes.subarray(36, 68).toString("hex")}`))
  const text = bytes.subarray(68, 68 + Math.min(length, bytes.length - 68))
  const shown = utf8.decode(text)
  return text.length < length
    ? `Error(${JSON.stringify(shown)}…) (truncated: ${text.length} of ${length} bytes of the reason)`
    : `Error(${JSON.stringify(shown)})`
}

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
  try {
    const decoded = decodeErrorResult({ abi: KNOWN_ERRORS, data: data as Hex })
    // The Inbox wraps a recipient's revert on retry: show the recipient's own reason.
    if (
      decoded.errorName === "RetryFailed" &&
      Array.isArray(decoded.args) &&
      typeof decoded.args[1] === "string"
    )
      return `the recipient reverted again: ${describeRevert(decoded.args[1])}`
    if (decoded.errorName === "Error") return `Error(${JSON.stringify(decoded.args?.[0])})`
    if (decoded.errorName === "Panic") {
      const code = Number(decoded.args?.[0])
      return `Panic(0x${code.toString(16).padStart(2, "0")}: ${PANIC_CODES[code] ?? "unknown panic code"})`
    }
    return `${decoded.errorName}(${(decoded.args ?? []).map((arg) => (typeof arg === "string" ? arg : String(arg))).join(", ")})`
  } catch {
    const lower = data.toLowerCase()
    if (lower.startsWith(ERROR_STRING)) {
      const partial = truncatedErrorString(lower as Hex)
      if (partial !== undefined) return partial
    }
    if (lower.startsWith(PANIC))
      return `Panic with malformed data ${data.length > 74 ? `${data.slice(0, 74)}…` : data}`
    return `custom error ${data.slice(0, 10)} (data ${data.length > 74 ? `${data.slice(0, 74)}…` : data})`
  }
}
