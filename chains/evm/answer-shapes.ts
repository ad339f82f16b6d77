/**
 * The shape every answer a reader relies on must have, checked as it comes
 * off the wire, before viem formats or decodes it: one URL's answer to one
 * JSON-RPC method. An answer of the wrong shape (a bare word where a block
 * belongs, garbage where a quantity belongs) would otherwise surface as a
 * `SyntaxError` or a `TypeError` deep in a formatter, naming neither the
 * RPC nor the method, and be retried forever as if the RPC were down.
 *
 * Only the shape is checked here; what the values mean (a block's number is
 * the one asked for, a log lies in its range) is checked by each read.
 * Methods the readers do not use are not checked.
 *
 * @module
 */
import { excerptOf } from "./errors.ts"

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/
const DATA = /^0x(?:[0-9a-fA-F]{2})*$/
const HASH = /^0x[0-9a-fA-F]{64}$/

/** The block fields viem turns into numbers: each must be a hex quantity when present. */
const BLOCK_QUANTITIES = [
  "number",
  "timestamp",
  "baseFeePerGas",
  "blobGasUsed",
  "difficulty",
  "excessBlobGas",
  "gasLimit",
  "gasUsed",
  "size",
  "totalDifficulty",
] as const

const isAbsent = (value: unknown) => value === undefined || value === null

const blockProblem = (answer: unknown): string | undefined => {
  // null: no such block (yet); the read says so in its own terms.
  if (answer === null) return undefined
  if (typeof answer !== "object" || Array.isArray(answer)) return `a block must be an object or null`
  const block = answer as Record<string, unknown>
  for (const field of BLOCK_QUANTITIES) {
    const value = block[field]
    if (!isAbsent(value) && !(typeof value === "string" && QUANTITY.test(value)))
      return `the block's ${field} is not a hex quantity (${excerptOf(value, 40)})`
  }
  if (!isAbsent(block.hash) && !(typeof block.hash === "string" && HASH.test(block.hash)))
    return `the block's hash is not 32 bytes of hex (${excerptOf(block.hash, 40)})`
  const transactions = block.transactions
  // Asked without transaction bodies: hashes only (a body would be formatted field by field).
  if (
    !isAbsent(transactions) &&
    !(Array.isArray(transactions) && transactions.every((t) => typeof t === "string" && HASH.test(t)))
  )
    return `the block's transactions are not a list of hashes (${excerptOf(transactions, 40)})`
  return undefined
}

/**
 * What is wrong with the shape of `answer` to `method`, or undefined when it has the shape the readers rely
 * on (or the method is not one they use).
 *
 * @example
 * ```ts
 * answerProblem("eth_blockNumber", "0x10") // undefined
 * answerProblem("eth_getBlockByNumber", `0x${"11".repeat(32)}`) // "a block must be an object or null"
 * ```
 */
export const answerProblem = (method: string, answer: unknown): string | undefined => {
  switch (method) {
    case "eth_chainId":
    case "eth_blockNumber":
      return typeof answer === "string" && QUANTITY.test(answer) ? undefined : "expected a hex quantity"
    case "eth_call":
      return typeof answer === "string" && DATA.test(answer) ? undefined : "expected hex data"
    case "eth_getBlockByNumber":
    case "eth_getBlockByHash":
      return blockProblem(answer)
    case "eth_getLogs":
      return Array.isArray(answer) ? undefined : "expected a list of logs"
    default:
      return undefined
  }
}
