/**
 * A destination's operator set as the collector counts against it: the
 * Inbox's mirror, read from that chain, with the Inbox's own stake rule.
 *
 * @module
 */
import type { Address, BlockRef, OperatorSetRead } from "../../schemas/index.ts"

const BPS = 10_000n

/** One destination Inbox's operator set at one epoch. */
export interface OperatorSetView {
  readonly dstChainId: number
  readonly inbox: Address
  readonly epoch: number
  /** Where it was read. */
  readonly block: BlockRef
  /** Weight by operator, in the Inbox's (ascending) order. */
  readonly weights: ReadonlyMap<Address, bigint>
  readonly thresholdBps: number
  readonly totalStake: bigint
  readonly requiredStake: bigint
}

/**
 * The stake a checkpoint needs: `ceil(total × thresholdBps / 10 000)`, as
 * `Inbox.setOperatorSet` computes `requiredWeight`; `commit` accepts signed
 * stake at or above it.
 *
 * @example
 * ```ts
 * requiredStake(8n, 6667) // 6n
 * ```
 */
export const requiredStake = (totalStake: bigint, thresholdBps: number): bigint =>
  (totalStake * BigInt(thresholdBps) + BPS - 1n) / BPS

/**
 * Does signed stake meet the set's threshold, by the Inbox's comparison
 * (`signed < required` reverts `InsufficientStake`)?
 *
 * @example
 * ```ts
 * meetsThreshold(6n, set) // true when set.requiredStake is 6
 * ```
 */
export const meetsThreshold = (signedStake: bigint, set: OperatorSetView): boolean =>
  signedStake >= set.requiredStake

/**
 * The view of an `OperatorSetRead`.
 *
 * @example
 * ```ts
 * const set = operatorSetView(read.lane.dstChainId, read)
 * set.weights.get(signer) // 3n, or undefined for a non-member
 * ```
 */
export const operatorSetView = (
  dstChainId: number,
  read: Pick<OperatorSetRead, "inbox" | "epoch" | "block" | "operators" | "thresholdBps">,
): OperatorSetView => {
  const weights = new Map(read.operators.map((o) => [o.address, BigInt(o.weight)] as const))
  const totalStake = [...weights.values()].reduce((sum, w) => sum + w, 0n)
  return {
    dstChainId,
    inbox: read.inbox,
    epoch: read.epoch,
    block: read.block,
    weights,
    thresholdBps: read.thresholdBps,
    totalStake,
    requiredStake: requiredStake(totalStake, read.thresholdBps),
  }
}
