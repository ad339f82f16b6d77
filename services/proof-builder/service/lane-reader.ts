/**
 * The proof-builder's one chain read: a lane's Outbox root and count at a
 * block, with that block's header and the finalized head, through the
 * source chain's reader (`chains/`: `proofBuilder.rpcUrls[chainId]`, else
 * the chain's `rpcUrls`).
 *
 * The read is pinned to a block number and reports the hash the RPC gives
 * for it, so the core can tell whether it read the block the message was
 * observed in. A block above the finalized head (or any block while none is
 * final, or one the RPC does not have yet) is not read as final: the read
 * throws `BlockNotFinalizedError` with the finalized head, and the service
 * waits or reads that head instead (`start.ts`).
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
  /**
   * Reads `lane` at block `number`. A block past the finalized head (or one this RPC does not have yet) throws
   * `BlockNotFinalizedError`, which names the finalized head; any other failure throws as the chain reader does.
   */
  readonly read: (lane: Lane, number: number) => Promise<OutboxLaneRead>
  /** The source chain's latest block number on this RPC: how far a block it has not finalized is from existing. */
  readonly latestHead: (chainId: number) => Promise<number>
}

/**
 * A reader over the configured source RPCs.
 *
 * @example
 * ```ts
 * const reader = makeLaneReader(config)
 * const read = await reader.read(lane, observed.block.number) // OutboxLaneRead{reader: "proof-builder", …}
 * ```
 */
export const makeLaneReader = (config: ChorusConfig): LaneReader => {
  const chains = makeChainAccess(config, { rpcUrlsOverride: config.proofBuilder.rpcUrls ?? {} })
  const notFinal = (lane: Lane, number: number, finalized: BlockRef | null, cause?: unknown) =>
    new BlockNotFinalizedError(
      { chainId: lane.srcChainId, block: number, finalized: finalized?.number ?? null },
      cause,
    )
  const read = async (lane: Lane, number: number): Promise<OutboxLaneRead> => {
    const source = chains.reader(lane.srcChainId)
    let state: Awaited<ReturnType<typeof source.outboxLane>>
    try {
      state = await source.outboxLane(lane, number)
    } catch (error) {
      // A block the RPC does not have yet fails to read at all: that is "not final", not a broken RPC.
      const finalized = await source.finalizedHead()
      if (finalized === null || number > finalized.number) throw notFinal(lane, number, finalized, error)
      throw error
    }
    const { finalized } = state
    if (finalized === null || number > finalized.number) throw notFinal(lane, number, finalized)
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
  return { read, latestHead: async (chainId) => (await chains.reader(chainId).latestHead()).number }
}
