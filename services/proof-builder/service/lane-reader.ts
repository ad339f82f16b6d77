/**
 * The proof-builder's one chain read: a lane's Outbox root and count at a
 * block, with that block's header and the finalized head, from the source
 * chain's RPC (`proofBuilder.rpcUrls[chainId]`, else the chain's `rpcUrls`).
 *
 * The read is pinned to a block number and reports the hash the RPC gives
 * for it, so the core can tell whether it read the block the message was
 * observed in.
 *
 * @module
 */
import type { PublicClient } from "viem"
import { outboxAbi } from "../../../contracts/out/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  type Lane,
  OutboxLaneRead,
  type Address as WireAddress,
} from "../../../schemas/index.ts"
import { type ChainConfig, type ChorusConfig, chainOf } from "../../config/index.ts"
import { makeChainClient } from "../../runtime/index.ts"
import { PROOF_BUILDER_READER } from "../core/index.ts"
import { BlockNotFinalizedError, WrongChainError } from "./errors.ts"

export interface LaneReader {
  /** Reads `lane` at `block` (its number); throws a retryable error when it cannot. */
  readonly read: (lane: Lane, block: BlockRef) => Promise<OutboxLaneRead>
}

const refOf = (block: { readonly number: bigint | null; readonly hash: string | null }, what: string) => {
  if (block.number === null || block.hash === null)
    throw new Error(`${what} has no number or hash (pending?)`)
  return new BlockRef({ number: Number(block.number), hash: Bytes32.make(block.hash.toLowerCase()) })
}

const finalizedHead = async (client: PublicClient, chain: ChainConfig) => {
  const finality = chain.finality
  if ("tag" in finality) return refOf(await client.getBlock({ blockTag: "finalized" }), "the finalized block")
  const latest = await client.getBlockNumber({ cacheTime: 0 })
  const number = latest > BigInt(finality.confirmations) ? latest - BigInt(finality.confirmations) : 0n
  return refOf(await client.getBlock({ blockNumber: number }), `block ${number}`)
}

/**
 * A reader over the configured source RPCs; one client per chain, made on first use.
 *
 * @example
 * ```ts
 * const reader = makeLaneReader(config)
 * const read = await reader.read(lane, observed.block) // OutboxLaneRead{reader: "proof-builder", …}
 * ```
 */
export const makeLaneReader = (config: ChorusConfig): LaneReader => {
  const clients = new Map<number, Promise<{ client: PublicClient; chain: ChainConfig }>>()

  const clientFor = (chainId: number) => {
    let entry = clients.get(chainId)
    if (entry === undefined) {
      const chain = chainOf(config, chainId)
      const rpcUrls = config.proofBuilder.rpcUrls?.[String(chainId)] ?? chain.rpcUrls
      const client = makeChainClient({ chainId, rpcUrls })
      entry = client.getChainId().then((actual) => {
        if (actual !== chainId) throw new WrongChainError({ expected: chainId, actual, rpcUrls })
        return { client, chain }
      })
      // A failed check (an RPC that is down) is tried again with the next read.
      entry.catch(() => clients.delete(chainId))
      clients.set(chainId, entry)
    }
    return entry
  }

  const read = async (lane: Lane, block: BlockRef): Promise<OutboxLaneRead> => {
    const { client, chain } = await clientFor(lane.srcChainId)
    const blockNumber = BigInt(block.number)
    const address = lane.outbox as `0x${string}`
    const args = [BigInt(lane.dstChainId)] as const
    const [header, root, count, finalized] = await Promise.all([
      client.getBlock({ blockNumber }),
      client.readContract({ address, abi: outboxAbi, functionName: "root", args, blockNumber }),
      client.readContract({ address, abi: outboxAbi, functionName: "count", args, blockNumber }),
      finalizedHead(client, chain),
    ])
    if (block.number > finalized.number) {
      throw new BlockNotFinalizedError({
        chainId: lane.srcChainId,
        block: block.number,
        finalized: finalized.number,
      })
    }
    return new OutboxLaneRead({
      reader: PROOF_BUILDER_READER,
      srcChainId: ChainId.make(lane.srcChainId),
      outbox: lane.outbox as WireAddress,
      dstChainId: ChainId.make(lane.dstChainId),
      block: refOf(header, `block ${block.number}`),
      finalized,
      root: Bytes32.make(root.toLowerCase()),
      count: Number(count),
    })
  }

  return { read }
}
