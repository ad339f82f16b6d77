import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Address, Bytes32, ChainId, Uint } from "../primitives.ts"

/**
 * A lane's root and count read from the source Outbox at one block, by the
 * proof-builder or by one operator on its own RPC. It enters the reader's
 * core as an event, so a replay needs no RPC.
 */
export class OutboxLaneRead extends Schema.TaggedClass<OutboxLaneRead>()("OutboxLaneRead", {
  /** `proof-builder`, or the operator's address. */
  reader: Schema.NonEmptyString,
  srcChainId: ChainId,
  outbox: Address,
  dstChainId: ChainId,
  /** The block read at; its hash comes from the reader's own RPC. */
  block: BlockRef,
  /** The reader's finalized head when it read (the read block is at or below it). */
  finalized: BlockRef,
  root: Bytes32,
  count: Uint,
}) {}
