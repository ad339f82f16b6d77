import { type Address, getAddress } from "viem"
import type { CheckpointDomain } from "./types.ts"

/**
 * The EIP-712 domain for checkpoints of the network whose OperatorRegistry is `registry` on `registryChainId`.
 * Every Inbox of that network is deployed with the same pair and checks signatures against this domain.
 *
 * @example
 * const domain = getCheckpointDomain({ registryChainId: 901, registry: "0x5FbD…" })
 */
export function getCheckpointDomain({
  registryChainId,
  registry,
}: {
  registryChainId: number
  registry: Address
}): CheckpointDomain {
  return { name: "Chorus", version: "1", chainId: registryChainId, verifyingContract: getAddress(registry) }
}
