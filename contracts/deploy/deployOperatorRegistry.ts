import type { Address } from "viem"
import { operatorRegistryAbi, operatorRegistryBytecode } from "../out/index.ts"
import { deployContract } from "./deployContract.ts"
import type { DeployClients } from "./types.ts"

/**
 * Deploys the OperatorRegistry (hub chain only) with an initial set; operators may be given in any order, they
 * are sorted ascending as the registry requires. The set starts at epoch 1.
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
  }: { owner?: Address; operators: readonly { address: Address; weight: bigint }[]; thresholdBps: number },
): Promise<Address> {
  const sorted = [...operators].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
  return deployContract(clients, {
    name: "OperatorRegistry",
    abi: operatorRegistryAbi,
    bytecode: operatorRegistryBytecode,
    args: [owner, sorted.map((o) => o.address), sorted.map((o) => o.weight), thresholdBps],
  })
}
