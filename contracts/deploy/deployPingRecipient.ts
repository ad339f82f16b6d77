import type { Address } from "viem"
import { pingRecipientAbi, pingRecipientBytecode } from "../out/index.ts"
import { deployContract } from "./deployContract.ts"
import type { DeployClients } from "./types.ts"

/**
 * Deploys the example PingRecipient, which only accepts calls from `inbox`.
 *
 * @example
 * const ping = await deployPingRecipient(clients, { inbox })
 */
export async function deployPingRecipient(
  clients: DeployClients,
  { inbox }: { inbox: Address },
): Promise<Address> {
  return deployContract(clients, {
    name: "PingRecipient",
    abi: pingRecipientAbi,
    bytecode: pingRecipientBytecode,
    args: [inbox],
  })
}
