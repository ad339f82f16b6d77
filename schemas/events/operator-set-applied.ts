import { Schema } from "effect"
import { ChainId, TxHash, U256, Uint } from "../primitives.ts"

/**
 * The outcomes of an operator-set update at one destination, as its submitter sends it (`Inbox.updateOperatorSet`,
 * the `OperatorSetAttested` of that destination). Keyed by the destination chain, beside its lanes' deliveries.
 */

/** The submitter sent the update: one transaction at one nonce of its account. */
export class OperatorSetSubmitted extends Schema.TaggedClass<OperatorSetSubmitted>()("OperatorSetSubmitted", {
  destination: ChainId,
  epoch: Uint,
  transactionHash: TxHash,
  nonce: Uint,
  gasLimit: U256,
  maxFeePerGas: U256,
}) {}

/** The destination Inbox trusts the set at `epoch` now: the update's transaction landed, with the gas it used. */
export class OperatorSetApplied extends Schema.TaggedClass<OperatorSetApplied>()("OperatorSetApplied", {
  destination: ChainId,
  epoch: Uint,
  transactionHash: TxHash,
  blockNumber: Uint,
  gasUsed: U256,
}) {}

/**
 * The update will not be applied as attested: the Inbox refused it (the decoded revert, from the estimate or
 * from the transaction re-run at its block), naming why. A later attested update is sent as usual.
 */
export class OperatorSetUpdateFailed extends Schema.TaggedClass<OperatorSetUpdateFailed>()(
  "OperatorSetUpdateFailed",
  {
    destination: ChainId,
    epoch: Uint,
    /** The transaction that reverted; null when the estimate refused it and nothing was sent. */
    transactionHash: Schema.NullOr(TxHash),
    reason: Schema.String,
  },
) {}
