import { Schema } from "effect"
import { BlockRef, Lane } from "../lane.ts"
import { MessageId, TxHash, Uint } from "../primitives.ts"

/**
 * Why the proof-builder rejected an observed message. Each is a fact about
 * the source chain, read on the proof-builder's own RPC (or about the event
 * itself), never a guess from which record arrived first.
 */
export const RejectionReason = Schema.Literals([
  /** Its `messageId` is not `keccak256(abi.encode(message))`: the event contradicts itself. */
  "mismatched-id",
  /** The Outbox's root at a block commits to another message at this nonce. */
  "not-in-outbox-root",
  /** The Outbox had not sent this nonce yet at the block the observation names (or at a later one). */
  "nonce-not-sent-by-block",
  /** The Outbox had already sent this nonce at a block before the one the observation names. */
  "nonce-sent-before-block",
])
export type RejectionReason = typeof RejectionReason.Type

/**
 * An observed message the proof-builder settled against the source chain
 * and found false: it is not a leaf of its lane, will never be proven, and
 * holds nothing up. One event per rejected observation: a message id may be
 * rejected for one observation (a wrong block, say) and proven through
 * another.
 */
export class MessageRejected extends Schema.TaggedClass<MessageRejected>()("MessageRejected", {
  lane: Lane,
  messageId: MessageId,
  nonce: Uint,
  /** The observation as it was published: the block, transaction and log it named. */
  block: BlockRef,
  transactionHash: TxHash,
  logIndex: Uint,
  reason: RejectionReason,
  /** The block of the Outbox read that settled it; null when the event refuted itself (`mismatched-id`). */
  outboxBlock: Schema.NullOr(BlockRef),
  /** The message the chain holds at this nonce, when the settlement names it. */
  chainMessageId: Schema.NullOr(MessageId),
  /** Human-readable: what the Outbox showed, and what the observation claimed. */
  detail: Schema.String,
}) {}
