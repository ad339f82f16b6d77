/**
 * The submitter: one writer per destination chain. It commits attested
 * checkpoint roots and delivers proven chunks to the destination Inbox in
 * batches, owns its account's nonces, replaces stuck transactions with
 * bumped fees, waits for confirmations, and records every step on
 * `chorus.deliveries` — and never delivers a message twice: it plans only
 * what the log shows neither settled nor in flight, reads the Inbox before
 * every send, and the Inbox itself skips attempted messages.
 *
 * Pipeline: `CheckpointAttested` + `MessageProven` (range) → fold (`core/`)
 * → `planActions` → Inbox check → estimate → sign → broadcast →
 * `DeliverySubmitted` → receipt → `DeliveryConfirmed` / `RootCommitted` /
 * `DeliveryFailed` (or `DeliverySkipped` instead of sending).
 *
 * `startSubmitter` runs it on the bus; `core/` is the pure fold and planner;
 * `chain/` is the destination's side (calls, reads, receipts, signing).
 *
 * @module
 */
export * from "./chain/index.ts"
export * from "./core/index.ts"
export * from "./service/index.ts"
