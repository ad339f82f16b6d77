/**
 * chain-watcher: one per chain. Reads Outbox `MessageSent` logs from
 * finalized blocks, in ranges that adapt to the RPC's limits, checks every
 * answer, records each read on `chorus.watcher.reads`, and folds it in a pure
 * core into `MessageObserved` events and its cursor (kept in the compacted
 * `chorus.watcher.cursors`). It halts loudly, with `ChainHalted`, if the
 * chain is rewritten below its cursor.
 *
 * @module
 */

export { fromChorusMessage, messageIdOf, toChorusMessage } from "../runtime/contract-message.ts"
export { getLogsAdaptive, makeRangeSizer, type RangeSizer } from "./adaptive-range.ts"
export { checkLogs, MESSAGE_SENT_TOPIC } from "./check-logs.ts"
export {
  makeWatcherCore,
  type WatcherCore,
  type WatcherDecision,
  type WatcherOutcome,
  type WatcherState,
} from "./core.ts"
export { ChainHaltedError, InvalidRpcResponseError, LogRangeExhaustedError } from "./errors.ts"
export { isRangeLimitError } from "./range-limit.ts"
export { readFinalizedHead, readHeader, readOutboxRange } from "./read-chain.ts"
export { loadResumePoint, type ResumePoint } from "./resume.ts"
export { type ChainWatcher, type ChainWatcherDeps, startChainWatcher, type TickResult } from "./watcher.ts"
