import { type Address, zeroAddress } from "viem"
import {
  checkpointFraudProofsAbi,
  checkpointFraudProofsBytecode,
  operatorRegistryAbi,
  operatorRegistryBytecode,
} from "../out/index.ts"
import { deployContract } from "./deployContract.ts"
import type { DeployClients } from "./types.ts"

/**
 * Deploys a `CheckpointFraudProofs`: on a source chain, what proves a checkpoint of its lanes false. The hub's
 * registry takes the hub chain's; any other chain's stands on its own (see docs/contracts.md).
 *
 * @example
 * const fraudProofs = await deployCheckpointFraudProofs(clients)
 */
export const deployCheckpointFraudProofs = (clients: DeployClients): Promise<Address> =>
  deployContract(clients, {
    name: "CheckpointFraudProofs",
    abi: checkpointFraudProofsAbi,
    bytecode: checkpointFraudProofsBytecode,
    args: [],
  })

/**
 * Deploys the OperatorRegistry (hub chain only) with an initial set; operators may be given in any order, they
 * are sorted ascending as the registry requires. The set starts at epoch 1. Unless `fraudProofs` names the hub
 * chain's `CheckpointFraudProofs` (or `null`: invalid attestations are then not provable on the registry), one is
 * deployed first; `OperatorRegistry.fraudProofs()` says which.
 *
 * @example
 * const registry = await deployOperatorRegistry(clients, {
 *   operators: [{ address: op1, weight: 100n }, { address: op2, weight: 100n }], thresholdBps: 6667 })
 */
export async function deployOperatorRegistry(
  clients: DeployClients,
  {
    owner = clients.walletClient.account.address,
    operators,
    thresholdBps,
    fraudProofs,
  }: {
    owner?: Address
    operators: readonly { address: Address; weight: bigint }[]
    thresholdBps: number
    fraudProofs?: Address | null
  },
): Promise<Address> {
  const sorted = [...operators].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
  const proofs =
    fraudProofs === null ? zeroAddress : (fraudProofs ?? (await deployCheckpointFraudProofs(clients)))
  return deployContract(clients, {
    name: "OperatorRegistry",
    abi: operatorRegistryAbi,
    bytecode: operatorRegistryBytecode,
    args: [owner, sorted.map((o) => o.address), sorted.map((o) => o.weight), thresholdBps, proofs],
  })
}
