import { Schema } from "effect"
import { BlockRef, Checkpoint } from "../lane.ts"
import { TxHash } from "../primitives.ts"

/** A checkpoint root stored by the destination Inbox. */
export class RootCommitted extends Schema.TaggedClass<RootCommitted>()("RootCommitted", {
  checkpoint: Checkpoint,
  transactionHash: TxHash,
  block: BlockRef,
}) {}
