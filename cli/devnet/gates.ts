/**
 * Opens or closes the devnet's GatedRecipients, on the chains a running
 * devnet described in its devnet.json. Every chain is checked first (it
 * answers, it is the chain the file names, the recipient is there and owned
 * by the file's account), so a devnet that is down leaves every gate as it was.
 *
 * @module
 */
import {
  type Address,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  type PublicClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { chainDefinition } from "../../chains/evm/client.ts"
import { gatedRecipientAbi } from "../../contracts/index.ts"
import { ChorusError } from "../../errors/index.ts"
import type { DevnetFile, DevnetFileChain } from "./devnet-file.ts"

/**
 * What happened at one chain's GatedRecipient:
 * - `changed`: a `setOpen` transaction was mined and the gate is now as asked;
 * - `unchanged`: the gate already was as asked, so no transaction was sent.
 */
export type GateChange =
  | {
      readonly _tag: "changed"
      readonly chainId: number
      readonly recipient: Address
      readonly open: boolean
      readonly transactionHash: Hex
      readonly blockNumber: bigint
    }
  | {
      readonly _tag: "unchanged"
      readonly chainId: number
      readonly recipient: Address
      readonly open: boolean
    }

/** A chain of the devnet does not answer: the devnet is not running. */
export class DevnetNotRunningError extends ChorusError {
  override readonly name = "DevnetNotRunningError"
  constructor(chainId: number, rpcUrl: string, cause: unknown) {
    super(
      `chain ${chainId} does not answer at ${rpcUrl} (${firstLine(cause)}): the devnet that wrote devnet.json is ` +
        "not running",
      {
        details: { chainId, rpcUrl },
        hint:
          "Start one with `chorus devnet --data-dir <dir>` (without --exit, so that it keeps running after its " +
          "traffic) and run this again while it runs. No gate was changed.",
        cause,
      },
    )
  }
}

/** A chain answers, but it is not the one devnet.json describes (another devnet, or a restarted chain). */
export class DevnetMismatchError extends ChorusError {
  override readonly name = "DevnetMismatchError"
  constructor(chainId: number, rpcUrl: string, detail: string) {
    super(`the chain at ${rpcUrl} is not the devnet chain ${chainId} that devnet.json describes: ${detail}`, {
      details: { chainId, rpcUrl },
      hint:
        "The devnet that wrote the file has stopped and something else answers there; pass the --data-dir of " +
        "the devnet that is running. No gate was changed.",
    })
  }
}

/** A `setOpen` transaction that did not succeed. */
export class GateTransactionError extends ChorusError {
  override readonly name = "GateTransactionError"
  constructor(chainId: number, recipient: Address, transactionHash: Hex, status: string) {
    super(
      `setOpen on the GatedRecipient ${recipient} of chain ${chainId} did not succeed (tx ${transactionHash}, ` +
        `status ${status})`,
      {
        details: { chainId, recipient, transactionHash, status },
        hint: "Check the devnet's services.log and the chain, then run this again: it is idempotent.",
      },
    )
  }
}

/** The root cause of a failed request (e.g. `connect ECONNREFUSED 127.0.0.1:8545`), not viem's generic wrapper. */
const firstLine = (error: unknown): string => {
  let deepest = error
  while (typeof deepest === "object" && deepest !== null && "cause" in deepest && deepest.cause !== undefined)
    deepest = deepest.cause
  return String(deepest instanceof Error ? deepest.message : deepest).split("\n")[0]!
}

const clientOf = (chain: DevnetFileChain): PublicClient =>
  createPublicClient({
    chain: chainDefinition(chain.chainId, [chain.rpcUrl]),
    // One quick try: a devnet that is down should be reported at once, not after a backoff.
    transport: http(chain.rpcUrl, { retryCount: 0, timeout: 5_000 }),
    pollingInterval: 250,
  }) as PublicClient

/** Checks the chain answers and is the one the file describes; returns the gate's state. */
const preflight = async (chain: DevnetFileChain, owner: Address, client: PublicClient): Promise<boolean> => {
  let chainId: number
  try {
    chainId = await client.getChainId()
  } catch (error) {
    throw new DevnetNotRunningError(chain.chainId, chain.rpcUrl, error)
  }
  if (chainId !== chain.chainId)
    throw new DevnetMismatchError(chain.chainId, chain.rpcUrl, `it has chain id ${chainId}`)
  const recipient = getAddress(chain.gatedRecipient)
  const code = await client.getCode({ address: recipient })
  if (code === undefined || code === "0x")
    throw new DevnetMismatchError(
      chain.chainId,
      chain.rpcUrl,
      `no contract at the GatedRecipient ${recipient}`,
    )
  const contract = { address: recipient, abi: gatedRecipientAbi } as const
  const [actualOwner, open] = await Promise.all([
    client.readContract({ ...contract, functionName: "owner" }),
    client.readContract({ ...contract, functionName: "open" }),
  ])
  if (actualOwner.toLowerCase() !== owner.toLowerCase())
    throw new DevnetMismatchError(
      chain.chainId,
      chain.rpcUrl,
      `the GatedRecipient ${recipient} is owned by ${actualOwner}, not ${owner}`,
    )
  return open
}

/**
 * Opens (`open: true`) or closes every GatedRecipient of the devnet that
 * `file` describes, and resolves once each change is mined. Chains whose
 * gate already is as asked get no transaction.
 *
 * @example
 * ```ts
 * const changes = await setGates(readDevnetFile(".data/devnet"), { open: true })
 * // [{ _tag: "changed", chainId: 901, recipient: "0x…", open: true, transactionHash: "0x…", blockNumber: 42n }, …]
 * ```
 */
export const setGates = async (
  file: DevnetFile,
  options: { readonly open: boolean },
): Promise<ReadonlyArray<GateChange>> => {
  const owner = privateKeyToAccount(file.gatedRecipientOwner.privateKey as Hex)
  if (owner.address.toLowerCase() !== file.gatedRecipientOwner.address)
    throw new DevnetMismatchError(
      file.chains[0]!.chainId,
      file.chains[0]!.rpcUrl,
      `devnet.json's gatedRecipientOwner key is for ${owner.address}, not ${file.gatedRecipientOwner.address}`,
    )
  const chains = file.chains.map((chain) => ({ chain, client: clientOf(chain) }))
  const states = await Promise.all(chains.map(({ chain, client }) => preflight(chain, owner.address, client)))
  return Promise.all(
    chains.map(async ({ chain, client }, index): Promise<GateChange> => {
      const recipient = getAddress(chain.gatedRecipient)
      if (states[index] === options.open)
        return { _tag: "unchanged", chainId: chain.chainId, recipient, open: options.open }
      const wallet = createWalletClient({
        chain: chainDefinition(chain.chainId, [chain.rpcUrl]),
        account: owner,
        transport: http(chain.rpcUrl, { retryCount: 0, timeout: 10_000 }),
      })
      const transactionHash = await wallet.writeContract({
        address: recipient,
        abi: gatedRecipientAbi,
        functionName: "setOpen",
        args: [options.open],
      })
      const receipt = await client.waitForTransactionReceipt({ hash: transactionHash, timeout: 60_000 })
      if (receipt.status !== "success")
        throw new GateTransactionError(chain.chainId, recipient, transactionHash, receipt.status)
      return {
        _tag: "changed",
        chainId: chain.chainId,
        recipient,
        open: options.open,
        transactionHash,
        blockNumber: receipt.blockNumber,
      }
    }),
  )
}
