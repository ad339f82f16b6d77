import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Address, ChainId, Uint } from "../primitives.ts"
import { OutboxBlock } from "./outbox-range-read.ts"

/**
 * A chain-watcher's targeted re-read of one message of its chain: the
 * proof-builder reported a lane of the watcher's Outbox stalled on a nonce
 * gap (`LaneStalled`, `nonce-gap`, its cause), the nonce is below the lane's
 * Outbox count at the watcher's cursor (so it was sent in a block the
 * watcher already passed), and the watcher asked its chain for that one
 * `MessageSent` log (`eth_getLogs` on the Outbox with topics [MessageSent,
 * dstChainId, nonce]) from its start block to its cursor, checked as a
 * range read checks its logs.
 *
 * The watcher core folds it into the `MessageObserved` a range read would
 * have emitted for the log (same fields, so the same message id); it never
 * moves the cursor. A read that found nothing (`found: null`) emits
 * nothing: it records an RPC that did not answer what its counts say.
 */
export class OutboxNonceRead extends Schema.TaggedClass<OutboxNonceRead>()("OutboxNonceRead", {
  chainId: ChainId,
  outbox: Address,
  dstChainId: ChainId,
  nonce: Uint,
  /** The lane's Outbox count at the cursor's block, as the watcher knew it: the nonce is below it. */
  count: Uint,
  /** The watcher's cursor when it read: the search ended at its block, and only a core at this cursor folds it. */
  cursor: BlockRef,
  /** The first block searched: the watcher's start block. */
  fromBlock: Uint,
  /** The block that holds the one log found, with that log alone (checked against its header); null when none was. */
  found: Schema.NullOr(OutboxBlock),
  /** The RPC the read was pinned to (redacted); null when the chain's fallback chose. */
  rpc: Schema.NullOr(Schema.String),
}) {}
