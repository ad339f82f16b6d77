import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { MessageId, Uint } from "../primitives.ts"

/**
 * Why the submitter would not re-drive a message:
 * - `unknown-message`: it holds no such message at that nonce of the lane
 *   (not proven yet, or a wrong id, lane or nonce);
 * - `already-delivered`: the Inbox shows it delivered;
 * - `in-flight`: a transaction carrying it is in the air;
 * - `queued`: it was never attempted and waits in the submitter's queue,
 *   which delivers it without a retry;
 * - `no-proof`: the submitter no longer holds the message and a proof of it;
 * - `no-committed-root`: none of the roots it is proven against is committed
 *   on the destination.
 */
export const RetryRefusalReason = Schema.Literals([
  "unknown-message",
  "already-delivered",
  "in-flight",
  "queued",
  "no-proof",
  "no-committed-root",
])
export type RetryRefusalReason = typeof RetryRefusalReason.Type

/** The submitter's answer to a `RetryRequested` (its cause) that it will not act on. */
export class RetryRefused extends Schema.TaggedClass<RetryRefused>()("RetryRefused", {
  messageId: MessageId,
  lane: Lane,
  nonce: Uint,
  reason: RetryRefusalReason,
  /** Human-readable: what the submitter and the Inbox showed, and what to do next. */
  detail: Schema.String,
}) {}
