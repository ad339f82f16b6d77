/**
 * The submitter: one writer per destination chain. It commits attested
 * checkpoint roots and delivers proven chunks to the destination Inbox in
 * batches, owns its account's nonces, replaces stuck transactions with
 * bumped fees, waits for confirmations, and records every step on
 * `chorus.deliveries` — and never delivers a message twice: it plans only
 * what the log shows neither settled nor in flight, reads the Inbox before
 * every send, and the Inbox itself skips attempted messages. It also
 * answers `chorus retry` requests.
 *
 * Pipeline: `CheckpointAttested` + `MessageProven` (range) → fold (`core/`)
 * → `planActions` → Inbox check → estimate → sign → broadcast →
 * `DeliverySubmitted` → receipt → `DeliveryConfirmed` / `RootCommitted` /
 * `DeliveryFailed` (or `DeliverySkipped` instead of sending). Each step's
 * records are `stepOutcomes` of the destination's answers behind them,
 * recorded beside them as a `DestinationRead` on `chorus.lane.reads`, so a
 * replay makes them again from the log (`definition.ts`).
 *
 * Retries: `RetryRequested` (`chorus.commands.retry`, co-partitioned with
 * the other inputs) → fold (pending until the first event caused by it) →
 * `lookupRetry` → `Inbox.messageStatus` and `committedCount` of the held
 * proofs' roots → `decideRetry` → `RetryRefused` (unknown-message,
 * already-delivered, in-flight, queued, no-proof, no-committed-root), or
 * `Inbox.retry` (failed on chain) / a one-message `Inbox.deliver` (never
 * attempted) sent like any other transaction: `DeliverySubmitted` caused by
 * the request → `DeliveryConfirmed` / `DeliveryFailed` caused by the
 * submission. A retry whose recipient still reverts reverts as a whole
 * (`RetryFailed`): at estimation it records `DeliveryFailed` with the
 * decoded reason and sends nothing.
 *
 * Invariants:
 * - A message is never delivered twice: deliveries skip what the Inbox
 *   attempted, a retry runs only a message the Inbox shows failed, and the
 *   Inbox itself refuses to retry a delivered one.
 * - A failed or refused message is kept (the message and proofs narrowed
 *   to it against the batch's root and its own checkpoint) until a retry
 *   delivers it; everything else settled is forgotten below the lane's floor.
 * - A retry request is answered once, also across restarts: its answer is
 *   in the log, caused by it, before the submitter plans again, and records
 *   are stamped never before the request they answer, so a rebuild folds a
 *   request before its answer.
 * - One transaction in flight: retries wait behind a flight, and a pending
 *   request is answered before new deliveries are planned.
 *
 * `startSubmitter` runs it on the bus; `core/` is the pure fold, planner and
 * retry decision; `chain/` is the destination's side (calls, reads,
 * receipts, signing).
 *
 * @module
 */
export * from "./chain/index.ts"
export * from "./core/index.ts"
export * from "./service/index.ts"
