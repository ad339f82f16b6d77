/**
 * The submitter's transaction policy: fee bumps for replacements, the gas
 * margin, and its own nonce counter. Signing and broadcasting are the
 * chain's writer's (`chains/`).
 *
 * The nonce counter is the submitter's own: initialised from the chain's
 * `pending` transaction count, advanced by each transaction it broadcasts,
 * and re-read from the chain after a "nonce too low" refusal or whenever a
 * flight ends without its nonce being used.
 *
 * @module
 */
import type { ChainWriter, Fees } from "../../../chains/index.ts"

const ceilBps = (value: bigint, bps: number): bigint => (value * BigInt(10_000 + bps) + 9_999n) / 10_000n

/**
 * Fees for a replacement: the old ones raised by `bumpBps` (at least 10%,
 * which nodes require to replace a pending transaction), and never below
 * what the network asks for now.
 *
 * @example
 * ```ts
 * bumpFees({ maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }, 1_250, current) // 113n / 12n, or current if higher
 * ```
 */
export const bumpFees = (old: Fees, bumpBps: number, current: Fees): Fees => {
  const bps = Math.max(bumpBps, 1_000)
  const maxPriorityFeePerGas = larger(ceilBps(old.maxPriorityFeePerGas, bps), current.maxPriorityFeePerGas)
  const maxFeePerGas = larger(ceilBps(old.maxFeePerGas, bps), current.maxFeePerGas)
  return { maxFeePerGas: larger(maxFeePerGas, maxPriorityFeePerGas), maxPriorityFeePerGas }
}

/** The larger of two amounts (fees, gas). */
export const larger = (a: bigint, b: bigint): bigint => (a > b ? a : b)

/**
 * A gas limit with `marginBps` added to the estimate.
 *
 * @example
 * ```ts
 * withMargin(100_000n, 2_000) // 120000n
 * ```
 */
export const withMargin = (estimate: bigint, marginBps: number): bigint => ceilBps(estimate, marginBps)

/** Gas the Inbox keeps aside around each recipient call (`CALL_RESERVE` in `Inbox.sol`). */
const INBOX_CALL_RESERVE = 5_000n
/** An upper bound on recording one message's failure: a new `_failed` slot and its event, revert data capped at 256 bytes. */
const FAILURE_RECORD_GAS = 40_000n

/**
 * The most gas a delivery's messages can take on top of what its estimate saw: each call's whole gas limit (and
 * the 1/64 the EVM keeps back from it), the Inbox's reserve around it, and the record of its failure. Added to
 * the estimate of a batch that ran short of gas once, so it cannot run short again however its recipients behave
 * (the Inbox gives no call more than its limit).
 *
 * @example
 * ```ts
 * worstCaseMessagesGas([200_000n]) // 248175n
 * ```
 */
export const worstCaseMessagesGas = (gasLimits: ReadonlyArray<bigint>): bigint =>
  gasLimits.reduce(
    (sum, limit) => sum + (limit * 64n) / 63n + 1n + INBOX_CALL_RESERVE + FAILURE_RECORD_GAS,
    0n,
  )

/** The submitter's own nonce counter (see the module doc). */
export interface NonceCounter {
  /** The nonce the next transaction takes (reads the chain's pending count the first time). */
  peek(): Promise<number>
  /**
   * Records that `nonce` was used by a broadcast transaction. A counter that forgot its value (`resync`) reads
   * the chain next rather than trusting this one nonce: others of the account may be pending above it.
   */
  used(nonce: number): void
  /** Forgets the local value: the next `peek` reads the chain again. */
  resync(): void
}

/**
 * A nonce counter for the writer's account.
 *
 * @example
 * ```ts
 * const nonces = makeNonceCounter(writer)
 * const nonce = await nonces.peek()
 * nonces.used(nonce)
 * ```
 */
export const makeNonceCounter = (writer: Pick<ChainWriter, "transactionCount">): NonceCounter => {
  let next: number | null = null
  return {
    peek: async () => {
      next ??= await writer.transactionCount("pending")
      return next
    },
    used: (nonce) => {
      if (next !== null) next = Math.max(next, nonce + 1)
    },
    resync: () => {
      next = null
    },
  }
}
