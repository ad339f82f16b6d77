import type { Address, PublicClient } from "viem"
import type { OperatorSet } from "../checkpoint/types.ts"
import { operatorRegistryAbi } from "../out/index.ts"

export type { OperatorSet }

/**
 * Reads the registry's current operator set, to mirror it into Inboxes with `configureInbox`.
 *
 * @example
 * const set = await readOperatorSet({ publicClient: hubClient, registry })
 */
export async function readOperatorSet({
  publicClient,
  registry,
}: {
  publicClient: PublicClient
  registry: Address
}): Promise<OperatorSet> {
  const contract = { address: registry, abi: operatorRegistryAbi } as const
  const [[operators, weights], thresholdBps, epoch] = await Promise.all([
    publicClient.readContract({ ...contract, functionName: "operators" }),
    publicClient.readContract({ ...contract, functionName: "thresholdBps" }),
    publicClient.readContract({ ...contract, functionName: "epoch" }),
  ])
  return { operators, weights, thresholdBps, epoch }
}
