import type { Address } from "viem"
import { inboxAbi, inboxBytecode } from "../out/index.ts"
import { deployContract } from "./deployContract.ts"
import type { DeployClients } from "./types.ts"

/**
 * Deploys an Inbox (one per chain) bound to the operator network of `registry` on `registryChainId`: that pair
 * fixes the EIP-712 domain for good. Configure it afterwards with `configureInbox`.
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
  }: { owner?: Address; registryChainId: number; registry: Address },
): Promise<Address> {
  return deployContract(clients, {
    name: "Inbox",
    abi: inboxAbi,
    bytecode: inboxBytecode,
    args: [owner, BigInt(registryChainId), registry],
  })
}
