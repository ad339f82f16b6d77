import { Schema } from "effect"
import { BlockRef, Lane } from "../lane.ts"
import { Address, Uint } from "../primitives.ts"

/**
 * An operator's own read of the epoch the destination Inbox trusts, at the latest block its destination RPC
 * showed, made for a checkpoint it is about to sign: the epoch it signs under. Keyed by the checkpoint's lane, so
 * a rebuild of the lane's shard finds it beside the proposal it was made for.
 */
export class InboxEpochRead extends Schema.TaggedClass<InboxEpochRead>()("InboxEpochRead", {
  /** The operator that read (it owns the read). */
  reader: Address,
  lane: Lane,
  block: BlockRef,
  /** 0 while the Inbox has no set. */
  epoch: Uint,
}) {}
