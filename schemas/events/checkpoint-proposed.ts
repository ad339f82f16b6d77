import { Schema } from "effect"
import { BlockRef, Checkpoint } from "../lane.ts"
import { Uint } from "../primitives.ts"

/**
 * The proof-builder's proposal: its tree's root for the lane, checked
 * against the Outbox's own root and count at `block`.
 */
export class CheckpointProposed extends Schema.TaggedClass<CheckpointProposed>()("CheckpointProposed", {
  checkpoint: Checkpoint,
  /** The count of the previous checkpoint of this lane; the new messages are `[previousCount, count)`. */
  previousCount: Uint,
  block: BlockRef,
}) {}
