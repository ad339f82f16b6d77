// Test world for the on-chain suites: one anvil per test file, contracts deployed once, evm_snapshot/evm_revert
// between tests. Messages are built in TypeScript for a fake source lane, which lets tests forge any case.
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  type PublicClient,
  stringToHex,
  type Transport,
  toHex,
  type WalletClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { expect } from "vitest"
import {
  createMerkleTree,
  getRangeProof,
  type MerkleTree,
} from "../../services/proof-builder/merkle/index.ts"
import { ANVIL_DEFAULT_KEYS, type Anvil, startAnvil } from "../anvil/index.ts"
import { type Checkpoint, getCheckpointDomain, packSignatures, signCheckpoint } from "../checkpoint/index.ts"
import { deployContract, deployInbox, deployOperatorRegistry } from "../deploy/index.ts"
import { buildDeliverArgs } from "../inbox/index.ts"
import { type ChorusMessage, getMessageId } from "../message/index.ts"
import {
  inboxAbi,
  noopRecipientAbi,
  noopRecipientBytecode,
  pingRecipientAbi,
  pingRecipientBytecode,
} from "../out/index.ts"

/** anvil's default funded keys. */
export const ANVIL_KEYS = [ANVIL_DEFAULT_KEYS[0], ANVIL_DEFAULT_KEYS[1]] as const

export const SRC_CHAIN_ID = 777n
export const SRC_OUTBOX: Address = getAddress("0x00000000000000000000000000000000000a11ce")

/**
 * Deterministic operator keys, sorted by address.
 * @example
 * const [op0, op1] = makeOperators(2)
 */
export function makeOperators(n: number, salt = "operator"): LocalAccount[] {
  return Array.from({ length: n }, (_, i) =>
    privateKeyToAccount(keccak256(stringToHex(`${salt}-${i}`))),
  ).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
}

export type WorldOptions = { chainId?: number; operators?: number; weights?: bigint[]; thresholdBps?: number }

export type World = Awaited<ReturnType<typeof createWorld>>

/**
 * Starts anvil and deploys a registry, an Inbox (set mirrored, fake source lane registered) and recipients.
 * @example
 * const w = await createWorld({ operators: 4 })
 */
export async function createWorld(options: WorldOptions = {}) {
  const chainId = options.chainId ?? 31337
  const anvil: Anvil = await startAnvil({ chainId })
  const chain: Chain = defineChain({
    id: chainId,
    name: `anvil-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  })
  const transport = http(anvil.rpcUrl)
  const publicClient = createPublicClient({ chain, transport }) as PublicClient
  const walletClient = createWalletClient({
    chain,
    transport,
    account: privateKeyToAccount(ANVIL_KEYS[0]),
  }) as WalletClient<Transport, Chain | undefined, Account>
  const other = createWalletClient({
    chain,
    transport,
    account: privateKeyToAccount(ANVIL_KEYS[1]),
  }) as WalletClient<Transport, Chain | undefined, Account>
  const testClient = createTestClient({ chain, transport, mode: "anvil" })
  const clients = { walletClient, publicClient }

  const operators = makeOperators(options.operators ?? 4)
  const weights = options.weights ?? operators.map(() => 1n)
  const thresholdBps = options.thresholdBps ?? 6667
  const registry = await deployOperatorRegistry(clients, {
    operators: operators.map((o, i) => ({ address: o.address, weight: weights[i]! })),
    thresholdBps,
  })
  const domain = getCheckpointDomain({ registryChainId: chainId, registry })
  const inbox = await deployInbox(clients, { registryChainId: chainId, registry })
  const ping = await deployContract(clients, {
    name: "PingRecipient",
    abi: pingRecipientAbi,
    bytecode: pingRecipientBytecode,
    args: [inbox],
  })
  const noop = await deployContract(clients, {
    name: "NoopRecipient",
    abi: noopRecipientAbi,
    bytecode: noopRecipientBytecode,
    args: [],
  })

  async function write(
    client: WalletClient<Transport, Chain | undefined, Account>,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
    gas?: bigint,
  ) {
    const hash = await client.writeContract({
      address,
      abi,
      functionName,
      args,
      account: client.account,
      chain,
      ...(gas ? { gas } : {}),
    } as never)
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe("success")
    return receipt
  }
  const inboxWrite = (functionName: string, args: readonly unknown[], gas?: bigint) =>
    write(walletClient, inbox, inboxAbi, functionName, args, gas)

  await inboxWrite("setOperatorSet", [operators.map((o) => o.address), weights, thresholdBps, 1n])
  await inboxWrite("setSource", [SRC_CHAIN_ID, SRC_OUTBOX])

  /** Builds consecutive messages of the fake lane SRC_CHAIN_ID -> chainId. */
  function makeMessages(
    start: number,
    n: number,
    over: Partial<Omit<ChorusMessage, "nonce">> | ((i: number) => Partial<ChorusMessage>) = {},
  ): ChorusMessage[] {
    return Array.from({ length: n }, (_, i) => ({
      version: 1,
      nonce: start + i,
      srcChainId: SRC_CHAIN_ID,
      sender: "0x000000000000000000000000000000000000beef" as Address,
      dstChainId: BigInt(chainId),
      recipient: ping,
      gasLimit: 200_000n,
      body: toHex(`ping ${start + i}`),
      ...(typeof over === "function" ? over(i) : over),
    }))
  }

  /** A lane: its messages so far and their tree. */
  function makeLane(messages: ChorusMessage[]) {
    const tree: MerkleTree = createMerkleTree(messages.map(getMessageId))
    return { messages, tree }
  }

  function checkpointOf(tree: MerkleTree, count = tree.count, lane: Partial<Checkpoint> = {}): Checkpoint {
    return {
      srcChainId: SRC_CHAIN_ID,
      outbox: SRC_OUTBOX,
      dstChainId: BigInt(chainId),
      root: getRangeProof(tree, { start: 0, end: count, count }).root,
      count,
      ...lane,
    }
  }

  async function sign(checkpoint: Checkpoint, signers: readonly LocalAccount[] = operators, d = domain) {
    const signatures = await Promise.all(
      signers.map(async (account) => ({
        signer: account.address,
        signature: await signCheckpoint({ account, domain: d, checkpoint }),
      })),
    )
    return packSignatures(signatures)
  }

  async function commit(checkpoint: Checkpoint, signers: readonly LocalAccount[] = operators) {
    return inboxWrite("commit", [checkpoint, await sign(checkpoint, signers)])
  }

  function deliverArgs(
    lane: { messages: ChorusMessage[]; tree: MerkleTree },
    start: number,
    end: number,
    count = lane.tree.count,
  ) {
    const proof = getRangeProof(lane.tree, { start, end, count })
    return buildDeliverArgs({ outbox: SRC_OUTBOX, messages: lane.messages.slice(start, end), proof })
  }

  /** Simulates a call and returns the decoded custom error (name and args). */
  async function revertOf(
    functionName: string,
    args: readonly unknown[],
    {
      address = inbox,
      abi = inboxAbi as Abi,
      account = walletClient.account as Account,
      gas,
    }: {
      address?: Address
      abi?: Abi
      account?: Account
      gas?: bigint
    } = {},
  ): Promise<{ errorName: string; args: readonly unknown[] }> {
    try {
      await publicClient.simulateContract({
        address,
        abi,
        functionName,
        args,
        account,
        ...(gas ? { gas } : {}),
      } as never)
    } catch (error) {
      const reverted = (error as { walk(fn: (e: unknown) => boolean): unknown }).walk(
        (e) => e instanceof ContractFunctionRevertedError,
      ) as ContractFunctionRevertedError | null
      if (reverted?.data) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] }
      throw error
    }
    throw new Error(`${functionName} did not revert`)
  }

  let snapshotId: Hex = await testClient.snapshot()
  /** Makes the current state the one `reset` returns to (after a test file's own setup). */
  async function save() {
    snapshotId = await testClient.snapshot()
  }
  /** Restores the state right after setup (call in afterEach). */
  async function reset() {
    await testClient.revert({ id: snapshotId })
    snapshotId = await testClient.snapshot()
  }

  return {
    anvil,
    chainId,
    chain,
    publicClient,
    walletClient,
    other,
    testClient,
    clients,
    operators,
    weights,
    thresholdBps,
    registry,
    domain,
    inbox,
    ping,
    noop,
    write,
    inboxWrite,
    makeMessages,
    makeLane,
    checkpointOf,
    sign,
    commit,
    deliverArgs,
    revertOf,
    save,
    reset,
  }
}
