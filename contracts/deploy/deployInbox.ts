import type { Address } from "viem"
import { inboxAbi, inboxBytecode } from "../out/index.ts"
import { deployContract } from "./deployContract.ts"
import type { DeployClients } from "./types.ts"

/**
 * Deploys an Inbox (one per chain) bound to the operator network of `registry` on `registryChainId`: that pair
 * fixes the EIP-712 domain for good. `epochGraceSeconds` (default 0) is how long after an operator-set update it still
 * accepts checkpoints signed under the epoch it left, fixed for good too. Configure it afterwards with
 * `configureInbox`.
 *
 * @example
 * const inbox = await deployInbox(clients, { registryChainId: 901, registry })
 */
export async function deployInbox(
  clients: DeployClients,
  {
    owner = clients.walletClient.account.address,
    registryChainId,
    registry,
    epochGraceSeconds = 0,
  }: { owner?: Address; registryChainId: number; registry: Address; epochGraceSeconds?: number },
): Promise<Address> {
  return deployContract(clients, {
    name: "Inbox",
    abi: inboxAbi,
    bytecode: inboxBytecode,
    args: [owner, BigInt(registryChainId), registry, epochGraceSeconds],
  })
}
