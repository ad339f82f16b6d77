import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Message } from "../message.ts"
import { Address, ChainId, TxHash, Uint } from "../primitives.ts"

/** One `MessageSent` log as the watcher read it, already checked against its block. */
export class OutboxLog extends Schema.Class<OutboxLog>("OutboxLog")({
  transactionHash: TxHash,
  logIndex: Uint,
  message: Message,
}) {}

/** A block of the range that held Outbox logs, with the header fields the watcher checked. */
export class OutboxBlock extends Schema.Class<OutboxBlock>("OutboxBlock")({
  block: BlockRef,
  /** Seconds since the epoch, from the block header. */
  timestamp: Uint,
  logs: Schema.Array(OutboxLog),
}) {}

/**
 * What a chain-watcher read from its chain in one step: the canonical block
 * at its cursor's height (so a rewrite is visible), the finalized range it
 * covered, and every Outbox log in it. It is the watcher core's only input,
 * so replaying these reproduces the watcher's outputs without an RPC.
 */
export class OutboxRangeRead extends Schema.TaggedClass<OutboxRangeRead>()("OutboxRangeRead", {
  chainId: ChainId,
  outbox: Address,
  /** The chain's block at the cursor's height when the range was read; null on a first read. */
  cursorCheck: Schema.NullOr(BlockRef),
  fromBlock: Uint,
  /** The range's last block (inclusive), finalized when read. */
  to: BlockRef,
  /** Only the blocks that held Outbox logs, ascending. */
  blocks: Schema.Array(OutboxBlock),
}) {}
