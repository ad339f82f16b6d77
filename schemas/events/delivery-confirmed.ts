import { Schema } from "effect"
import { BlockRef, Lane } from "../lane.ts"
import { Hex, MessageId, TxHash, U256 } from "../primitives.ts"
import { DeliveryAction } from "./delivery-submitted.ts"

/** What the Inbox did with one message of a confirmed transaction. */
export class MessageOutcome extends Schema.Class<MessageOutcome>("MessageOutcome")({
  messageId: MessageId,
  result: Schema.Literals(["delivered", "failed", "skipped"]),
  /** The recipient's revert data, for `failed`. */
  reason: Schema.NullOr(Hex),
}) {}

/** A submitter transaction included and confirmed on the destination. */
export class DeliveryConfirmed extends Schema.TaggedClass<DeliveryConfirmed>()("DeliveryConfirmed", {
  lane: Lane,
  action: DeliveryAction,
  transactionHash: TxHash,
  block: BlockRef,
  gasUsed: U256,
  outcomes: Schema.Array(MessageOutcome),
}) {}
