/**
 * The hostile recipients of a chaos run, on every chain: a gas burner, a
 * recipient that reverts with 1 MiB of data, a re-entrant one armed to call
 * back into its Inbox, and an address with no code (drawn from the seed).
 *
 * @module
 */
import {
  type Address,
  createWalletClient,
  encodeFunctionData,
  getAddress,
  http,
  keccak256,
  stringToHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { chainDefinition } from "../../chains/evm/client.ts"
import { ANVIL_KEYS, type DevnetChain } from "../../cli/devnet/world.ts"
import {
  deployContract,
  gasBurnerRecipientAbi,
  gasBurnerRecipientBytecode,
  inboxAbi,
  reentrantRecipientAbi,
  reentrantRecipientBytecode,
  returnBombRecipientAbi,
  returnBombRecipientBytecode,
} from "../../contracts/index.ts"

/** The revert the return bomb sends: 1 MiB. */
export const RETURN_BOMB_BYTES = 1n << 20n

export interface HostileRecipients {
  readonly gasBurner: Address
  readonly returnBomb: Address
  readonly reentrant: Address
  readonly noCode: Address
}

/**
 * The address with no code a run sends to: the same for a seed, on every chain.
 *
 * @example
 * ```ts
 * noCodeAddress(7) // "0x…"
 * ```
 */
export const noCodeAddress = (seed: number): Address =>
  getAddress(`0x${keccak256(stringToHex(`chorus-chaos-no-code-${seed}`)).slice(-40)}`)

/**
 * Deploys the hostile recipients on one chain (as its deployer, anvil account 0) and arms the re-entrant one
 * to call the chain's Inbox `deliver` from inside its `handle`: the Inbox's guard must refuse it, so the
 * message fails at its recipient.
 *
 * @example
 * ```ts
 * const hostile = await deployHostileRecipients(chain, 7)
 * ```
 */
export const deployHostileRecipients = async (
  chain: DevnetChain,
  seed: number,
): Promise<HostileRecipients> => {
  const walletClient = createWalletClient({
    chain: chainDefinition(chain.chainId, [chain.rpcUrl]),
    account: privateKeyToAccount(ANVIL_KEYS.deployer),
    transport: http(chain.rpcUrl),
  })
  const clients = { walletClient, publicClient: chain.client }
  const gasBurner = await deployContract(clients, {
    name: "GasBurnerRecipient",
    abi: gasBurnerRecipientAbi,
    bytecode: gasBurnerRecipientBytecode,
    args: [],
  })
  const returnBomb = await deployContract(clients, {
    name: "ReturnBombRecipient",
    abi: returnBombRecipientAbi,
    bytecode: returnBombRecipientBytecode,
    args: [RETURN_BOMB_BYTES],
  })
  const reentrant = await deployContract(clients, {
    name: "ReentrantRecipient",
    abi: reentrantRecipientAbi,
    bytecode: reentrantRecipientBytecode,
    args: [],
  })
  const reenter = encodeFunctionData({
    abi: inboxAbi,
    functionName: "deliver",
    args: [BigInt(chain.chainId), chain.outbox, BigInt(chain.chainId), `0x${"00".repeat(32)}`, 0, "0x", []],
  })
  const hash = await walletClient.writeContract({
    address: reentrant,
    abi: reentrantRecipientAbi,
    functionName: "arm",
    args: [chain.inbox, reenter],
  })
  const receipt = await chain.client.waitForTransactionReceipt({ hash })
  if (receipt.status !== "success")
    throw new Error(`arming the ReentrantRecipient on chain ${chain.chainId} failed`)
  return { gasBurner, returnBomb, reentrant, noCode: noCodeAddress(seed) }
}
