import { type Abi, type Address, type ContractConstructorArgs, getAddress, type Hex } from "viem"
import { ChorusError } from "../../errors/index.ts"
import type { DeployClients } from "./types.ts"

/** A deployment transaction that did not create a contract. */
export class DeploymentError extends ChorusError {
  override readonly name = "DeploymentError"
  declare readonly details: { contract: string; hash: Hex; status: string }
  constructor(details: { contract: string; hash: Hex; status: string }) {
    super(`${details.contract} was not deployed (tx ${details.hash}, status ${details.status})`, {
      details,
      hint: "Check the constructor arguments and the deployer's balance.",
    })
  }
}

/**
 * Deploys a contract and waits for its receipt; returns the new address.
 *
 * @example
 * const address = await deployContract(clients, { name: "Outbox", abi: outboxAbi, bytecode: outboxBytecode, args: [] })
 */
export async function deployContract<const abi extends Abi>(
  { walletClient, publicClient }: DeployClients,
  {
    name,
    abi,
    bytecode,
    args,
  }: { name: string; abi: abi; bytecode: Hex; args: ContractConstructorArgs<abi> },
): Promise<Address> {
  const hash = await walletClient.deployContract({
    abi,
    bytecode,
    args,
    account: walletClient.account,
    chain: walletClient.chain ?? null,
  } as Parameters<typeof walletClient.deployContract>[0])
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new DeploymentError({ contract: name, hash, status: receipt.status })
  }
  return getAddress(receipt.contractAddress)
}
