import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Address, ChainId, EventId, Uint } from "../primitives.ts"

/** One lane's Outbox count at the trusted block: `Outbox.count(dstChainId)` there, as the chain's RPC showed it. */
export class ResumedLaneCount extends Schema.Class<ResumedLaneCount>("ResumedLaneCount")({
  dstChainId: ChainId,
  count: Uint,
}) {}

/**
 * A person lifted a chain's halt with `chorus chain resume`, from a block
 * they trust below the rewrite: the chain's watcher reads the chain again
 * from the block after it, and the lanes' messages above the counts at it
 * are trusted again only once they are re-observed and attested afresh.
 *
 * Written on `chorus.chain.halts` (keyed by chain, like `ChainHalted`), by
 * the `chain-resume` tool alone: consumers ignore one another producer
 * wrote, so on an authenticating bus only the tool's key can lift a halt.
 * It lifts the `ChainHalted` it names, and only while that is the chain's
 * last halt.
 */
export class ChainResumed extends Schema.TaggedClass<ChainResumed>()("ChainResumed", {
  chainId: ChainId,
  /** The chain's Outbox, whose lane counts these are. */
  outbox: Address,
  /** The trusted block: below the rewrite, its hash as the chain's RPC showed it when the halt was lifted. */
  block: BlockRef,
  /** Each lane's Outbox count at the trusted block, by destination (every configured chain but this one). */
  lanes: Schema.Array(ResumedLaneCount),
  /** The `ChainHalted` record it lifts: the chain's last halt. */
  halt: EventId,
  /** Who ran it (`user@host`). */
  by: Schema.NonEmptyString,
  /** Why, in their words (`--reason`); null when none was given. */
  reason: Schema.NullOr(Schema.String),
}) {}
