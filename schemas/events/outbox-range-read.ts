import { Effect, Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Message } from "../message.ts"
import { Address, ChainId, EventId, TxHash, Uint } from "../primitives.ts"

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
 * One lane's `Outbox.count(dst)` on both sides of a range. Nonces of a lane
 * are consecutive, so the range holds exactly the lane's nonces
 * `before`..`after - 1`, each once: a log missing from the answer shows as a
 * nonce without its log.
 */
export class OutboxLaneCount extends Schema.Class<OutboxLaneCount>("OutboxLaneCount")({
  dstChainId: ChainId,
  /** The count at the block before the range (the cursor's block): the lane's first nonce in the range. */
  before: Uint,
  /** The count at the range's last block: one past the lane's last nonce in the range. */
  after: Uint,
}) {}

/**
 * What a chain-watcher read from its chain in one step: the canonical block
 * at its cursor's height (so a rewrite is visible), the finalized range it
 * covered, every Outbox log in it, and each lane's Outbox count around it,
 * which proves the logs complete. It is the watcher core's only input, so
 * replaying these reproduces the watcher's outputs without an RPC.
 *
 * Version 2 added `lanes` and `rpc`; a version-1 record is read with both
 * null (it proves nothing, and is folded as it was when written).
 *
 * `resumedBy` (absent on reads of a chain never resumed, and in records
 * written before it was added) names the `ChainResumed` the read descends
 * from: a watcher restarted from a resume's trusted block marks every read
 * with it, so the core (and a replay) knows the read starts from that block
 * rather than from the cursor it had before the halt.
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
  /**
   * Every lane the watcher knows and every lane its logs name, with its count on both sides of the range;
   * null when the read proves nothing (version 1). A read whose logs fall short of these counts is a short
   * answer: the core folds none of it and the watcher reads the range again.
   */
  lanes: Schema.NullOr(Schema.Array(OutboxLaneCount)).pipe(
    Schema.withConstructorDefault(Effect.succeed(null)),
  ),
  /** The RPC the read was pinned to (redacted), for a read made again elsewhere; null when the chain's fallback chose. */
  rpc: Schema.NullOr(Schema.String).pipe(Schema.withConstructorDefault(Effect.succeed(null))),
  resumedBy: Schema.optionalKey(EventId),
}) {}

/**
 * Lifts a version-1 `OutboxRangeRead` wire payload to version 2: no lane
 * counts and no pinned RPC, since version 1 recorded neither. A payload that
 * is not an object is returned as it is, for the schema to reject.
 *
 * @example
 * ```ts
 * upcastOutboxRangeReadV1({ chainId: 901, outbox, cursorCheck: null, fromBlock: 0, to, blocks: [] })
 * // { chainId: 901, …, blocks: [], lanes: null, rpc: null }
 * ```
 */
export const upcastOutboxRangeReadV1 = (payload: unknown): unknown => {
  if (typeof payload !== "object" || payload === null) return payload
  return { ...payload, lanes: null, rpc: null }
}
