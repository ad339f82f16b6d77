import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { Hex, MessageId, TxHash } from "../primitives.ts"
import { DeliveryAction } from "./delivery-submitted.ts"

/** A submitter action that did not land, with the decoded reason. */
export class DeliveryFailed extends Schema.TaggedClass<DeliveryFailed>()("DeliveryFailed", {
  lane: Lane,
  action: DeliveryAction,
  messageIds: Schema.Array(MessageId),
  transactionHash: Schema.NullOr(TxHash),
  /** Human-readable: the decoded custom error or the RPC's message. */
  reason: Schema.String,
  revertData: Schema.NullOr(Hex),
}) {}
