import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { IsoTime, MessageId, Uint } from "../primitives.ts"

/**
 * Someone asked the destination's submitter to re-drive a message: run it
 * again with `Inbox.retry` if its delivery failed, or deliver it alone if no
 * delivery ran it. The submitter answers on `chorus.deliveries` with events
 * caused by this one: `RetryRefused`, or the transaction's
 * `DeliverySubmitted` → `DeliveryConfirmed` / `DeliveryFailed`.
 */
export class RetryRequested extends Schema.TaggedClass<RetryRequested>()("RetryRequested", {
  messageId: MessageId,
  lane: Lane,
  /** The message's nonce in its lane (its leaf index). */
  nonce: Uint,
  /** Who asked, free text (e.g. `alice@ops-1`). */
  requestedBy: Schema.NonEmptyString,
  /** Why, free text, if they said. */
  reason: Schema.NullOr(Schema.String),
  /**
   * When it was asked. Event ids derive from content, so this is what makes
   * a second request for the same message a new event rather than a
   * duplicate of the first.
   */
  requestedAt: IsoTime,
}) {}
