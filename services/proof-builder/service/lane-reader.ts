/**
 * The proof-builder's one chain read: a lane's Outbox root and count at a
 * block, with that block's header and the finalized head, through the
 * source chain's reader (`chains/`: `proofBuilder.rpcUrls[chainId]`, else
 * the chain's `rpcUrls`).
 *
 * The read is pinned to a block number and reports the hash the RPC gives
 * for it, so the core can tell whether it read the block the message was
 * observed in. A block above the finalized head (or any block while none is
 * final) is not read as final: the read throws and is tried again.
 *
 * @module
 */
import { makeChainAccess } from "../../../chains/index.ts"
import {
  type BlockRef,
  ChainId,
  type Lane,
  OutboxLaneRead,
  type Address as WireAddress,
} from "../../../schemas/index.ts"
import type { ChorusConfig } from "../../config/index.ts"
import { PROOF_BUILDER_READER } from "../core/index.ts"
import { BlockNotFinalizedError } from "./errors.ts"

export interface LaneReader {
  /** Reads `lane` at `block` (its number); throws a retryable error when it cannot. */
  readonly read: (lane: Lane, block: BlockRef) => Promise<OutboxLaneRead>
}

/**
 * A reader over the configured source RPCs.
 *
 * @example
 * ```ts
 * const reader = makeLaneReader(config)
 * const read = await reader.read(lane, observed.block) // OutboxLaneRead{reader: "proof-builder", …}
 * ```
 */
export const makeLaneReader = (config: ChorusConfig): LaneReader => {
  const chains = makeChainAccess(config, { rpcUrlsOverride: config.proofBuilder.rpcUrls ?? {} })
  const read = async (lane: Lane, block: BlockRef): Promise<OutboxLaneRead> => {
    const state = await chains.reader(lane.srcChainId).outboxLane(lane, block.number)
    const { finalized } = state
    if (finalized === null || block.number > finalized.number) {
      throw new BlockNotFinalizedError({
        chainId: lane.srcChainId,
        block: block.number,
        finalized: finalized?.number ?? null,
      })
    }
    return new OutboxLaneRead({
      reader: PROOF_BUILDER_READER,
      srcChainId: ChainId.make(lane.srcChainId),
      outbox: lane.outbox as WireAddress,
      dstChainId: ChainId.make(lane.dstChainId),
      block: state.block,
      finalized,
      root: state.root,
      count: state.count,
    })
  }
  return { read }
}
