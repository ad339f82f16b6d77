import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { MessageId } from "../primitives.ts"
import { DeliveryAction } from "./delivery-submitted.ts"

/** Work the submitter did not send, because the destination already had it. */
export class DeliverySkipped extends Schema.TaggedClass<DeliverySkipped>()("DeliverySkipped", {
  lane: Lane,
  action: DeliveryAction,
  messageIds: Schema.Array(MessageId),
  reason: Schema.String,
}) {}
