import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { MessageId } from "../primitives.ts"
import { DeliveryAction } from "./delivery-submitted.ts"

/**
 * What the destination Inbox showed for a skipped message when the submitter read it: `delivered` (its
 * recipient ran), `failed` (its recipient reverted; retryable), or `unknown` (the submitter did not know the
 * message's nonce, the read failed, or the record predates version 2 of the event).
 */
export const SkippedStatus = Schema.Literals(["delivered", "failed", "unknown"])
export type SkippedStatus = typeof SkippedStatus.Type

/**
 * Work the submitter did not send, because the destination already had it: a root already committed
 * (`messageIds` empty), or messages the Inbox had already attempted — each with what the Inbox showed for it
 * (`statuses[i]` is the status of `messageIds[i]`).
 *
 * Version 2 added `statuses`; a version-1 record is read with every status `unknown`.
 */
export class DeliverySkipped extends Schema.TaggedClass<DeliverySkipped>()(
  "DeliverySkipped",
  Schema.Struct({
    lane: Lane,
    action: DeliveryAction,
    messageIds: Schema.Array(MessageId),
    /** One per entry of `messageIds`, in the same order. */
    statuses: Schema.Array(SkippedStatus),
    reason: Schema.String,
  }).check(
    Schema.makeFilter(
      (skipped) =>
        skipped.statuses.length === skipped.messageIds.length || {
          path: ["statuses"],
          issue:
            `has ${skipped.statuses.length} entries but messageIds has ${skipped.messageIds.length}: ` +
            "give exactly one status per message id, in the same order",
        },
    ),
  ),
) {}

/**
 * Lifts a version-1 `DeliverySkipped` wire payload to version 2: every message gets the status `unknown`,
 * since version 1 did not record what the Inbox showed. A payload without a `messageIds` array is returned as
 * it is, for the schema to reject with its own error.
 *
 * @example
 * ```ts
 * upcastDeliverySkippedV1({ lane, action: "deliver", messageIds: [id], reason: "…" })
 * // { lane, action: "deliver", messageIds: [id], statuses: ["unknown"], reason: "…" }
 * ```
 */
export const upcastDeliverySkippedV1 = (payload: unknown): unknown => {
  if (typeof payload !== "object" || payload === null) return payload
  const { messageIds } = payload as { readonly messageIds?: unknown }
  if (!Array.isArray(messageIds)) return payload
  return { ...payload, statuses: messageIds.map((): SkippedStatus => "unknown") }
}
