/**
 * Solidity's two built-in revert reasons in words: `Error(string)` and
 * `Panic(uint256)`, whole or cut short. A revert reaches Chorus cut short
 * more often than not: the Inbox keeps only the first 256 bytes of a
 * recipient's revert data (`MAX_REASON_SIZE`), and a log line or a reason
 * keeps a prefix of what it quotes. No ABI decoder takes a cut one, so it
 * is read here as far as its bytes go, and said to be cut.
 *
 * One decoder for every place a revert is shown: the submitter's writer
 * (`revert.ts`) and the auditor's timelines (`services/auditor/`).
 *
 * @module
 */

/** `bytes4(keccak256("Error(string)"))`. */
export const ERROR_STRING_SELECTOR = "0x08c379a0"
/** `bytes4(keccak256("Panic(uint256)"))`. */
export const PANIC_SELECTOR = "0x4e487b71"

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

/** A longer reason is shown up to here, and said to go on. */
const SHOWN_REASON_BYTES = 1_024

const errorString = (body: Buffer): string => {
  // Head: the offset of the string (0x20), then at the offset its length, then its bytes.
  if (body.length < 64) {
    return `Error(…) (truncated: ${body.length} of the at least 64 bytes before the reason's text)`
  }
  const offset = Number(BigInt(`0x${body.subarray(0, 32).toString("hex")}`) & 0xffffffffn)
  const start = offset + 32
  if (body.length < start) {
    return `Error(…) (truncated before the reason's length: ${body.length} bytes)`
  }
  const declared = BigInt(`0x${body.subarray(offset, start).toString("hex")}`)
  const length = declared > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(declared)
  const text = body.subarray(start, start + Math.min(length, body.length - start, SHOWN_REASON_BYTES))
  const shown = JSON.stringify(utf8.decode(text))
  if (text.length === length) return `Error(${shown})`
  if (start + Math.min(length, SHOWN_REASON_BYTES) <= body.length)
    return `Error(${shown}…) (${length} bytes of reason, the first ${text.length} shown)`
  return `Error(${shown}…) (truncated: ${text.length} of ${length} bytes of the reason)`
}

const panic = (body: Buffer): string => {
  if (body.length < 32) return `Panic(…) (truncated: ${body.length} of the 32 bytes of its code)`
  const code = BigInt(`0x${body.subarray(0, 32).toString("hex")}`)
  const meaning = code <= 0xffn ? PANIC_CODES[Number(code)] : undefined
  return `Panic(0x${code.toString(16).padStart(2, "0")}: ${meaning ?? "unknown panic code"})`
}

/**
 * `Error(string)` or `Panic(uint256)` revert data in words, whole or cut short; undefined for any other
 * data (a custom error, no selector).
 *
 * @example
 * ```ts
 * describeSolidityRevert("0x08c379a0…") // 'Error("not today")'
 * describeSolidityRevert("0x08c379a0…") // 'Error("a long reas"…) (truncated: 188 of 600 bytes of the reason)'
 * describeSolidityRevert("0x4e487b71…11") // "Panic(0x11: arithmetic overflow or underflow)"
 * describeSolidityRevert("0xdeadbeef") // undefined
 * ```
 */
export const describeSolidityRevert = (data: string): string | undefined => {
  const hex = data.toLowerCase()
  if (!/^0x[0-9a-f]*$/.test(hex)) return undefined
  // An odd digit is a cut in the middle of a byte: read the whole bytes.
  const body = Buffer.from(hex.slice(10, hex.length - ((hex.length - 10) % 2)), "hex")
  if (hex.startsWith(ERROR_STRING_SELECTOR)) return errorString(body)
  if (hex.startsWith(PANIC_SELECTOR)) return panic(body)
  return undefined
}

/** Revert data of `Error(string)` or `Panic(uint256)` quoted in a text, whole or cut (an ellipsis may follow). */
const QUOTED_REVERT = /0x(?:08c379a0|4e487b71)[0-9a-fA-F]*/g

/**
 * A text with every `Error(string)` and `Panic(uint256)` revert data it quotes in words: a reason recorded as
 * text (a failed estimate, a retry refused, another error's argument) may quote raw revert bytes.
 *
 * @example
 * ```ts
 * describeRevertsIn("RetryFailed(id=0x…, reason=0x08c379a0…)") // 'RetryFailed(id=0x…, reason=Error("not today"))'
 * ```
 */
export const describeRevertsIn = (text: string): string =>
  text.replace(QUOTED_REVERT, (data) => describeSolidityRevert(data) ?? data)
