/**
 * `chorus retry`'s library: ask the destination's submitter to re-drive a
 * stuck or failed message, and follow its answer.
 *
 * Pipeline: `requestRetry` publishes `RetryRequested` on
 * `chorus.commands.retry` (keyed by lane, so it reaches the submitter member
 * holding the lane) → the submitter answers on `chorus.deliveries` with
 * events caused by the request (`RetryRefused`, or `DeliverySubmitted` of
 * an `Inbox.retry` / one-message `deliver`, or `DeliveryFailed` if it would
 * revert) → the transaction's outcome is caused by its submission →
 * `awaitRetryOutcome` reads that one partition (no consumer group) and
 * returns a closed outcome: delivered, failed, refused, or timeout.
 *
 * Invariants: both the request and the outcome stay in the log (the audit
 * trail); a request is answered once, and two requests are two events even
 * for the same message (`requestedAt` is part of the content the id derives
 * from).
 *
 * @module
 */
export * from "./await-outcome.ts"
export * from "./outcome.ts"
export * from "./request.ts"
