import type { Address, Hex } from "viem"
import { ChorusError } from "../../errors/index.ts"
import { inboxAbi } from "../out/index.ts"
import type { OperatorSet } from "./readOperatorSet.ts"
import type { DeployClients } from "./types.ts"

/** A configuration transaction that reverted. */
export class ConfigurationError extends ChorusError {
  override readonly name = "ConfigurationError"
  declare readonly details: { step: string; hash: Hex }
  constructor(details: { step: string; hash: Hex }) {
    super(`Inbox configuration step "${details.step}" reverted (tx ${details.hash})`, {
      details,
      hint: "Is the wallet the Inbox owner?",
    })
  }
}

/**
 * Owner setup of an Inbox: mirrors the operator set (if its epoch is newer than the Inbox's) and registers the
 * outbox of each source chain. Sends the transactions one after another and waits for each.
 *
 * @example
 * await configureInbox(clients, { inbox, operatorSet: await readOperatorSet(hub), sources: [{ chainId: 902n, outbox }] })
 */
export async function configureInbox(
  clients: DeployClients,
  {
    inbox,
    operatorSet,
    sources = [],
  }: { inbox: Address; operatorSet?: OperatorSet; sources?: readonly { chainId: bigint; outbox: Address }[] },
): Promise<void> {
  const { walletClient, publicClient } = clients
  const send = async (step: string, hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== "success") throw new ConfigurationError({ step, hash })
  }
  const base = {
    address: inbox,
    abi: inboxAbi,
    account: walletClient.account,
    chain: walletClient.chain ?? null,
  }
  if (operatorSet) {
    const current = await publicClient.readContract({ address: inbox, abi: inboxAbi, functionName: "epoch" })
    if (operatorSet.epoch > current) {
      await send(
        "setOperatorSet",
        await walletClient.writeContract({
          ...base,
          functionName: "setOperatorSet",
          args: [operatorSet.operators, operatorSet.weights, operatorSet.thresholdBps, operatorSet.epoch],
        }),
      )
    }
  }
  for (const { chainId, outbox } of sources) {
    await send(
      `setSource(${chainId})`,
      await walletClient.writeContract({ ...base, functionName: "setSource", args: [chainId, outbox] }),
    )
  }
}
