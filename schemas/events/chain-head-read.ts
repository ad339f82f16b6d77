import { Schema } from "effect"
import { BlockRef, Lane } from "../lane.ts"
import { ChainId } from "../primitives.ts"

/**
 * A chain's latest block as one reader's own RPC showed it while it handled
 * an input: an operator reads its source chain's head before it waits for a
 * proposal's block to be final, so that a proposal naming a block the chain
 * has not reached is refused at once, and a replay refuses it again from
 * this record without an RPC call.
 *
 * It can only make its reader refuse, never sign: signing still needs the
 * reader's own Outbox read at the proposal's block.
 */
export class ChainHeadRead extends Schema.TaggedClass<ChainHeadRead>()("ChainHeadRead", {
  /** The operator's address (wire form), as in `OutboxLaneRead.reader`. */
  reader: Schema.NonEmptyString,
  /** The lane of the input it was read for (it keys the event, so it lands beside that input). */
  lane: Lane,
  /** The chain whose head this is: the lane's source chain. */
  chainId: ChainId,
  /** The chain's `latest` block (not its finalized one: a finalized head may move in jumps). */
  latest: BlockRef,
}) {}
