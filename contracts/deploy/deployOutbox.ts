import type { Address } from "viem"
import { outboxAbi, outboxBytecode } from "../out/index.ts"
import { deployContract } from "./deployContract.ts"
import type { DeployClients } from "./types.ts"

/**
 * Deploys an Outbox (one per chain). It has no owner and no configuration.
 *
 * @example
 * const outbox = await deployOutbox(clients)
 */
export async function deployOutbox(clients: DeployClients): Promise<Address> {
  return deployContract(clients, { name: "Outbox", abi: outboxAbi, bytecode: outboxBytecode, args: [] })
}
