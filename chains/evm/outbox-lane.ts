/**
 * A lane's Outbox state at one block, the one way Chorus reads a lane (the
 * proof-builder before it proposes, each operator before it signs): the
 * block's header, `Outbox.latestCheckpoint(dst)` pinned to that block, and
 * the finalized head, read together.
 *
 * The read is pinned to a block number and reports the hash this RPC has
 * for it, so whoever compares it with a proposal or an observed message can
 * tell whether both are about the same block. Root and count come from one
 * call, so they are of the same state. The checkpoint names its own lane;
 * an answer about another chain, Outbox or destination is refused, so a
 * lying RPC cannot pass one lane's root off as another's.
 *
 * @module
 */
import { BaseError, ContractFunctionZeroDataError } from "viem"
import { outboxAbi } from "../../contracts/index.ts"
import { Bytes32 } from "../../schemas/index.ts"
import type { Finality, OutboxLaneRef, OutboxLaneState } from "../chain-access.ts"
import type { EvmClient } from "./client.ts"
import { InvalidRpcResponseError, OutboxNotDeployedError } from "./errors.ts"
import { readFinalizedHead, readHeader } from "./finalized-head.ts"

/**
 * Reads `lane` at `blockNumber`; no Outbox code there throws `OutboxNotDeployedError`.
 *
 * @example
 * ```ts
 * const { block, root, count, finalized } = await readOutboxLane(client, { confirmations: 2 }, lane, 1_234)
 * ```
 */
export const readOutboxLane = async (
  client: EvmClient,
  finality: Finality,
  lane: OutboxLaneRef,
  blockNumber: number,
): Promise<OutboxLaneState> => {
  const [header, checkpoint, finalized] = await Promise.all([
    readHeader(client, blockNumber),
    client.viem
      .readContract({
        address: lane.outbox as `0x${string}`,
        abi: outboxAbi,
        functionName: "latestCheckpoint",
        args: [BigInt(lane.dstChainId)],
        blockNumber: BigInt(blockNumber),
      })
      .catch((error: unknown) => {
        const noCode =
          error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionZeroDataError) !== null
        if (!noCode) throw error
        throw new OutboxNotDeployedError({ chainId: client.chainId, outbox: lane.outbox, block: blockNumber })
      }),
    readFinalizedHead(client, finality),
  ])
  const problems = [
    ...(Number(checkpoint.srcChainId) === client.chainId
      ? []
      : [`srcChainId is ${checkpoint.srcChainId}, expected ${client.chainId}`]),
    ...(checkpoint.outbox.toLowerCase() === lane.outbox.toLowerCase()
      ? []
      : [`outbox is ${checkpoint.outbox.toLowerCase()}, expected ${lane.outbox.toLowerCase()}`]),
    ...(Number(checkpoint.dstChainId) === lane.dstChainId
      ? []
      : [`dstChainId is ${checkpoint.dstChainId}, expected ${lane.dstChainId}`]),
  ]
  if (problems.length > 0) {
    throw new InvalidRpcResponseError(
      client.chainId,
      `latestCheckpoint(${lane.dstChainId}) at block ${blockNumber}`,
      problems,
    )
  }
  return {
    block: header.ref,
    root: Bytes32.make(checkpoint.root.toLowerCase()),
    count: checkpoint.count,
    finalized,
  }
}
