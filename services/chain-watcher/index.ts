/**
 * chain-watcher: one per chain. Reads Outbox `MessageSent` logs from
 * finalized blocks through the chain's reader (`chains/`: ranges that adapt
 * to the RPC's limits, every answer checked, each lane's Outbox count
 * around the range read with them), records each read on
 * `chorus.watcher.reads`, and folds it in a pure core into
 * `MessageObserved` events and its cursor (kept in the compacted
 * `chorus.watcher.cursors`) once the counts prove it holds every message;
 * a short answer is read again. It halts loudly, with `ChainHalted`, if the
 * chain is rewritten below its cursor, refuses to start while the log shows
 * its chain halted, and starts again from the trusted block of the
 * `ChainResumed` (`chorus chain resume`) that lifts the halt. When the
 * proof-builder stalls on a nonce gap of one of its lanes below the lane's
 * count at its cursor, it re-reads that one message from the chain
 * (`OutboxNonceRead`) and observes it again, so the lane goes on.
 *
 * @module
 */

export { fromChorusMessage, messageIdOf, toChorusMessage } from "../runtime/contract-message.ts"
export {
  type Completeness,
  completenessOf,
  describeNonces,
  describeShortfall,
  type LaneShortfall,
} from "./completeness.ts"
export {
  makeWatcherCore,
  resumedFrom,
  type WatcherCore,
  type WatcherDecision,
  type WatcherOutcome,
  type WatcherState,
} from "./core.ts"
export { ChainHaltedError, ChainStillHaltedError, ResumeRefutedError } from "./errors.ts"
export {
  GAP_WRITER,
  type GapEvent,
  gapEventOf,
  type NonceGap,
  type NonceGapsView,
  nonceGapsView,
} from "./nonce-gaps.ts"
export { loadResumePoint, type ResumePoint, type StartPoint, startPointOf } from "./resume.ts"
export {
  type ChainWatcher,
  type ChainWatcherDeps,
  NONCE_REREAD_EVERY_MS,
  startChainWatcher,
  type TickResult,
} from "./service.ts"
