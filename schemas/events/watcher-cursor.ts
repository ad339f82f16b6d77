import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { ChainId, EventId } from "../primitives.ts"

/**
 * How far a chain-watcher has read; kept in a compacted topic, keyed by chain.
 *
 * `resumedBy` (absent before it was added, and on a chain never resumed)
 * names the `ChainResumed` the watcher's reading descends from: every
 * cursor written after a resume carries it, so the last cursor alone (all
 * compaction keeps) tells a restarted watcher whether it already resumed
 * from that trusted block or still has to.
 */
export class WatcherCursor extends Schema.TaggedClass<WatcherCursor>()("WatcherCursor", {
  chainId: ChainId,
  block: BlockRef,
  resumedBy: Schema.optionalKey(EventId),
}) {}
