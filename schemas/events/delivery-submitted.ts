import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { Bytes32, MessageId, TxHash, U256, Uint } from "../primitives.ts"

/** The submitter's transaction kinds. */
export const DeliveryAction = Schema.Literals(["commit", "deliver", "commitAndDeliver", "retry"])
export type DeliveryAction = typeof DeliveryAction.Type

/** A transaction the submitter signed and sent (or replaced with a higher fee). */
/** A transaction the node took: what it carries and how it was signed (a `DeliverySubmitted`, and the step behind it). */
export const SubmissionFields = {
  action: DeliveryAction,
  messageIds: Schema.Array(MessageId),
  transactionHash: TxHash,
  /** The submitter account's transaction nonce. */
  nonce: Uint,
  maxFeePerGas: U256,
  gasLimit: U256,
  /** The transaction this one replaces, for a fee bump. */
  replaces: Schema.NullOr(TxHash),
}

export class DeliverySubmitted extends Schema.TaggedClass<DeliverySubmitted>()("DeliverySubmitted", {
  lane: Lane,
  ...SubmissionFields,
  /**
   * The checkpoint root the transaction proves its messages against (absent for a commit, and in records
   * written before it was added): a failed message's retry needs a proof against the root the Inbox stored.
   */
  proofRoot: Schema.optionalKey(Bytes32),
}) {}
