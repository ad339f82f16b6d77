/**
 * Tells an `eth_getLogs` refusal because of the range's size (too many
 * blocks, too many results, too large a response) from every other error.
 * Providers phrase it differently and put it at different depths of viem's
 * error chain, so every message, short message and detail of the chain is
 * matched against the phrases in use.
 *
 * @module
 */
import { causesOf } from "./errors.ts"

/** Phrases providers use when a range is too large (matched lowercase). */
const RANGE_PHRASES = [
  "block range",
  "range too large",
  "range is too large",
  "range too big",
  "range is too wide",
  "exceed maximum block range",
  "exceeds maximum block range",
  "exceeds max block range",
  "max block range",
  "maximum block range",
  "query returned more than",
  "more than",
  "too many",
  "limit exceeded",
  "response size",
  "response is too big",
  "response too large",
  "result window is too large",
  "results limit",
  "log limit",
  "logs are limited",
] as const

/** Phrases that mean "slow down", not "ask for less": those are retried, never halved. */
const RATE_PHRASES = [
  "rate limit",
  "rate-limit",
  "ratelimit",
  "too many requests",
  "requests per second",
  "request limit",
  "compute units",
] as const

/** JSON-RPC `-32005` ("limit exceeded"), which several providers use for result limits. */
const LIMIT_EXCEEDED_CODE = -32005

interface ErrorLink {
  readonly name?: unknown
  readonly code?: unknown
  readonly message?: unknown
  readonly shortMessage?: unknown
  readonly details?: unknown
  readonly cause?: unknown
}

const isRevert = (link: ErrorLink) =>
  link.name === "ExecutionRevertedError" ||
  link.name === "ContractFunctionRevertedError" ||
  link.code === 3 ||
  (typeof link.message === "string" && /execution reverted/i.test(link.message))

/**
 * Whether an `eth_getLogs` error means "ask for a smaller range". Reverts,
 * rate limits and every other error are not (they are not retried by
 * halving the range).
 *
 * @example
 * ```ts
 * isRangeLimitError(new Error("query returned more than 10000 results")) // true
 * isRangeLimitError(new Error("invalid argument 0: hex string without 0x prefix")) // false
 * ```
 */
export const isRangeLimitError = (error: unknown): boolean => {
  const links = causesOf(error) as ReadonlyArray<ErrorLink>
  if (links.length === 0) return typeof error === "string" && matches(error.toLowerCase())
  if (links.some(isRevert)) return false
  const text = links
    .flatMap((link) => [link.message, link.shortMessage, link.details])
    .filter((value): value is string => typeof value === "string")
    .join("\n")
    .toLowerCase()
  if (RATE_PHRASES.some((phrase) => text.includes(phrase))) return false
  return matches(text) || links.some((link) => link.code === LIMIT_EXCEEDED_CODE)
}

const matches = (text: string) => RANGE_PHRASES.some((phrase) => text.includes(phrase))
