import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { ChainId } from "../primitives.ts"

/** How far a chain-watcher has read; kept in a compacted topic, keyed by chain. */
export class WatcherCursor extends Schema.TaggedClass<WatcherCursor>()("WatcherCursor", {
  chainId: ChainId,
  block: BlockRef,
}) {}
