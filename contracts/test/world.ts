// The one on-chain world of Chorus's tests and its gas bench: one anvil, a registry, an Inbox mirroring its set
// with a fake source lane registered, and recipients, deployed once; evm_snapshot/evm_revert between tests.
// Messages are built in TypeScript for the fake source lane, which lets tests forge any case. It imports no test
// runner, so `bench/gas.ts` runs it under plain node.
import {
  type Abi,
  type Account,
  type Address,
  ContractFunctionRevertedError,
  getAddress,
  type Hex,
  keccak256,
  type LocalAccount,
  stringToHex,
  toHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import {
  createMerkleTree,
  getRangeProof,
  type MerkleTree,
} from "../../services/proof-builder/merkle/index.ts"
import {
  type AccountWallet,
  ANVIL_DEFAULT_KEYS,
  type Anvil,
  anvilClients,
  startAnvil,
} from "../anvil/index.ts"
import { type Checkpoint, getCheckpointDomain, packSignatures, signCheckpoint } from "../checkpoint/index.ts"
import { deployContract, deployInbox, deployOperatorRegistry } from "../deploy/index.ts"
import { buildDeliverArgs } from "../inbox/index.ts"
import { type ChorusMessage, encodeMessages, getMessageId } from "../message/index.ts"
import {
  bitmapProbeRecipientAbi,
  bitmapProbeRecipientBytecode,
  inboxAbi,
  merkleHarnessAbi,
  merkleHarnessBytecode,
  noopRecipientAbi,
  noopRecipientBytecode,
  pingRecipientAbi,
  pingRecipientBytecode,
  probeRecipientAbi,
  probeRecipientBytecode,
  reentrantRecipientAbi,
  reentrantRecipientBytecode,
  returnBombRecipientAbi,
  returnBombRecipientBytecode,
  revertingRecipientAbi,
  revertingRecipientBytecode,
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

/** The contracts of `TestContracts.sol` a test deploys by name (`World.deployTestContract`). */
const TEST_CONTRACTS = {
  BitmapProbeRecipient: { abi: bitmapProbeRecipientAbi, bytecode: bitmapProbeRecipientBytecode },
  MerkleHarness: { abi: merkleHarnessAbi, bytecode: merkleHarnessBytecode },
  ProbeRecipient: { abi: probeRecipientAbi, bytecode: probeRecipientBytecode },
  ReentrantRecipient: { abi: reentrantRecipientAbi, bytecode: reentrantRecipientBytecode },
  ReturnBombRecipient: { abi: returnBombRecipientAbi, bytecode: returnBombRecipientBytecode },
  RevertingRecipient: { abi: revertingRecipientAbi, bytecode: revertingRecipientBytecode },
} as const satisfies Record<string, { abi: Abi; bytecode: Hex }>

export type TestContractName = keyof typeof TEST_CONTRACTS

/** A lane: its messages so far and their tree. */
export type Lane = { messages: ChorusMessage[]; tree: MerkleTree }

export type WorldOptions = {
  chainId?: number
  operators?: number
  /** Seeds the operator keys (see `makeOperators`). */
  operatorSalt?: string
  weights?: bigint[]
  thresholdBps?: number
  /** Extra anvil arguments, e.g. a higher block gas limit. */
  anvilArgs?: readonly string[]
}

export type World = Awaited<ReturnType<typeof createWorld>>

/**
 * Starts anvil and deploys a registry, an Inbox (set mirrored, fake source lane registered) and recipients.
 * @example
 * const w = await createWorld({ operators: 4 })
 */
export async function createWorld(options: WorldOptions = {}) {
  const chainId = options.chainId ?? 31337
  const anvil: Anvil = await startAnvil({
    chainId,
    ...(options.anvilArgs ? { args: options.anvilArgs } : {}),
  })
  const { chain, publicClient, testClient, wallet } = anvilClients(anvil)
  const walletClient = wallet(ANVIL_KEYS[0])
  const other = wallet(ANVIL_KEYS[1])
  const clients = { walletClient, publicClient }

  const operators = makeOperators(options.operators ?? 4, options.operatorSalt)
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

  /** Sends a transaction and waits for its receipt; a revert throws. */
  async function write(
    client: AccountWallet,
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
    if (receipt.status !== "success") throw new Error(`${functionName} reverted in transaction ${hash}`)
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

  function makeLane(messages: ChorusMessage[]): Lane {
    return { messages, tree: createMerkleTree(messages.map(getMessageId)) }
  }

  function checkpointOf(tree: MerkleTree, count = tree.count, lane: Partial<Checkpoint> = {}): Checkpoint {
    return {
      srcChainId: SRC_CHAIN_ID,
      outbox: SRC_OUTBOX,
      dstChainId: BigInt(chainId),
      root: getRangeProof(tree, { start: 0, end: count, count }).root,
      count,
      epoch: 1n,
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

  /** `makeLane(makeMessages(0, n, over))`, with its whole range committed by the quorum. */
  async function committedLane(n: number, over: Parameters<typeof makeMessages>[2] = {}): Promise<Lane> {
    const lane = makeLane(makeMessages(0, n, over))
    await commit(checkpointOf(lane.tree))
    return lane
  }

  function deliverArgs(lane: Lane, start: number, end: number, count = lane.tree.count) {
    const proof = getRangeProof(lane.tree, { start, end, count })
    return buildDeliverArgs({ outbox: SRC_OUTBOX, messages: lane.messages.slice(start, end), proof })
  }

  /** `commitAndDeliver`'s arguments: commit `checkpoint` and deliver messages [start, end) proven against it. */
  function commitAndDeliverArgs(
    lane: Lane,
    checkpoint: Checkpoint,
    signatures: Hex,
    start: number,
    end: number,
  ) {
    const proof = getRangeProof(lane.tree, { start, end, count: checkpoint.count })
    return [
      checkpoint,
      signatures,
      start,
      encodeMessages(lane.messages.slice(start, end)),
      proof.siblings,
    ] as const
  }

  /** The Inbox's status of a message of the fake lane: 0 unseen, 1 delivered, 2 failed. */
  function messageStatus(nonce: number) {
    return publicClient.readContract({
      address: inbox,
      abi: inboxAbi,
      functionName: "messageStatus",
      args: [SRC_CHAIN_ID, SRC_OUTBOX, nonce],
    })
  }

  /** Deploys one of the test contracts (no constructor arguments unless given). */
  function deployTestContract(name: TestContractName, args: readonly unknown[] = []): Promise<Address> {
    const { abi, bytecode }: { abi: Abi; bytecode: Hex } = TEST_CONTRACTS[name]
    return deployContract(clients, { name, abi, bytecode, args })
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
    committedLane,
    deliverArgs,
    commitAndDeliverArgs,
    deployTestContract,
    messageStatus,
    revertOf,
    save,
    reset,
  }
}
