/**
 * The branded primitives every Chorus event is made of.
 *
 * The wire form is canonical so that deterministic event ids are stable:
 * hex is lowercase and 0x-prefixed, uint256 values are decimal strings with no
 * leading zeros, and chain ids, block numbers and nonces are safe integers.
 * A value in any other form is rejected, never normalised silently.
 *
 * @module
 */
import { Schema } from "effect"

const MAX_UINT256 = (1n << 256n) - 1n

const hexPattern = (digits: number | "even", what: string) =>
  Schema.isPattern(digits === "even" ? /^0x(?:[0-9a-f]{2})*$/ : new RegExp(`^0x[0-9a-f]{${digits}}$`), {
    message: `expected ${what}`,
  })

/** Arbitrary bytes: `0x` and an even number of lowercase hex digits. */
export const Hex = Schema.String.check(
  hexPattern("even", "hex bytes: 0x and an even number of lowercase hex digits"),
).pipe(Schema.brand("Hex"))
export type Hex = typeof Hex.Type

/** An EVM address, lowercase (checksums are a display concern). */
export const Address = Schema.String.check(hexPattern(40, "an address: 0x and 40 lowercase hex digits")).pipe(
  Schema.brand("Address"),
)
export type Address = typeof Address.Type

/** A 32-byte word: Merkle roots, siblings, digests, hashes. */
export const Bytes32 = Schema.String.check(hexPattern(64, "32 bytes: 0x and 64 lowercase hex digits")).pipe(
  Schema.brand("Bytes32"),
)
export type Bytes32 = typeof Bytes32.Type

/** `keccak256(abi.encode(message))`, the message's Merkle leaf. */
export const MessageId = Schema.String.check(
  hexPattern(64, "a message id: 0x and 64 lowercase hex digits"),
).pipe(Schema.brand("MessageId"))
export type MessageId = typeof MessageId.Type

/** A deterministic event id (see `eventId`). */
export const EventId = Schema.String.check(
  hexPattern(64, "an event id: 0x and 64 lowercase hex digits"),
).pipe(Schema.brand("EventId"))
export type EventId = typeof EventId.Type

/** A transaction or block hash. */
export const TxHash = Schema.String.check(hexPattern(64, "a hash: 0x and 64 lowercase hex digits")).pipe(
  Schema.brand("TxHash"),
)
export type TxHash = typeof TxHash.Type

const isSafePositiveInt = Schema.makeFilter<number>(
  (n) => (Number.isSafeInteger(n) && n > 0) || "expected a positive safe integer",
)
const isSafeNonNegativeInt = Schema.makeFilter<number>(
  (n) => (Number.isSafeInteger(n) && n >= 0) || "expected a non-negative safe integer",
)

/** An EVM chain id. */
export const ChainId = Schema.Number.check(isSafePositiveInt).pipe(Schema.brand("ChainId"))
export type ChainId = typeof ChainId.Type

/** Block numbers, nonces, counts, offsets: non-negative safe integers. */
export const Uint = Schema.Number.check(isSafeNonNegativeInt)
export type Uint = typeof Uint.Type

/** A uint256 as a canonical decimal string (JSON numbers lose precision past 2^53). */
export const U256 = Schema.String.check(
  Schema.makeFilter<string>((s) => {
    if (!/^(?:0|[1-9][0-9]*)$/.test(s))
      return "expected a uint256 as a decimal string with no sign or leading zeros"
    return BigInt(s) <= MAX_UINT256 || "expected a uint256: the value exceeds 2^256 - 1"
  }),
).pipe(Schema.brand("U256"))
export type U256 = typeof U256.Type

/** An ISO-8601 UTC timestamp as produced by `Date.prototype.toISOString`. */
export const IsoTime = Schema.String.check(
  Schema.makeFilter<string>(
    (s) =>
      (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s) && !Number.isNaN(Date.parse(s))) ||
      "expected an ISO-8601 UTC time such as 2026-01-01T00:00:00.000Z",
  ),
).pipe(Schema.brand("IsoTime"))
export type IsoTime = typeof IsoTime.Type

/**
 * Lowercases an address or hash from viem (which checksums addresses) into its wire form.
 *
 * @example
 * ```ts
 * const a = toAddress("0xAbC0000000000000000000000000000000000001") // "0xabc0…0001"
 * ```
 */
export const toAddress = (value: string): Address => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new TypeError(`Not an address: ${JSON.stringify(value)}; expected 0x and 40 hex digits`)
  }
  return Address.make(value.toLowerCase())
}

/**
 * Canonical uint256 from a bigint.
 *
 * @example
 * ```ts
 * toU256(10n ** 18n) // "1000000000000000000"
 * ```
 */
export const toU256 = (value: bigint): U256 => U256.make(value.toString())
