import type { Address } from "viem"
import { gatedRecipientAbi, gatedRecipientBytecode } from "../out/index.ts"
import { deployContract } from "./deployContract.ts"
import type { DeployClients } from "./types.ts"

/**
 * Deploys a GatedRecipient: a PingRecipient that only `owner` can open (`setOpen(true)`). It starts closed, so
 * every message it gets fails at the recipient until it is opened, and can then be retried.
 *
 * @example
 * const gated = await deployGatedRecipient(clients, { inbox })
 */
export async function deployGatedRecipient(
  clients: DeployClients,
  { owner = clients.walletClient.account.address, inbox }: { owner?: Address; inbox: Address },
): Promise<Address> {
  return deployContract(clients, {
    name: "GatedRecipient",
    abi: gatedRecipientAbi,
    bytecode: gatedRecipientBytecode,
    args: [owner, inbox],
  })
}
