import { Schema } from "effect"
import { BlockRef, Checkpoint } from "../lane.ts"
import { Uint } from "../primitives.ts"

/**
 * The collector asks every operator to sign a checkpoint again: its destination Inbox moved to another epoch
 * (`epoch`, as the collector read it) before the checkpoint was committed, so the signatures it holds count
 * nowhere any more. It carries the proposal's own fields, and an operator treats it as that proposal: it reads the
 * lane again on its own RPC at `block`, and the Inbox's epoch on its own destination RPC, and signs under what it
 * read, never under what this record says.
 */
export class CheckpointResignRequested extends Schema.TaggedClass<CheckpointResignRequested>()(
  "CheckpointResignRequested",
  {
    checkpoint: Checkpoint,
    previousCount: Uint,
    block: BlockRef,
    /** The epoch the destination Inbox trusts, as the collector read it. */
    epoch: Uint,
    /** Human-readable: why the checkpoint's signatures no longer count. */
    reason: Schema.String,
  },
) {}
