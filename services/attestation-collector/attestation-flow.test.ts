/**
 * Operators and the collector on anvil and the embedded bus: a proposal that
 * matches the real Outbox is signed by the honest operators, refused by an
 * operator whose RPC shows another history of the same chain, attested with
 * unequal weights at 6667 bps, and the attestation is accepted by the real
 * Inbox. An operator restarted from its log still refuses a second root.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Account,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  type PublicClient,
  stringToHex,
  type Transport,
  type WalletClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/support.ts"
import { type EmbeddedBus, openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents } from "../../bus/events/index.ts"
import { makeEvmClient, makeEvmReader } from "../../chains/evm/index.ts"
import type { Finality } from "../../chains/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../../contracts/anvil/index.ts"
import {
  type Anvil,
  configureInbox,
  deployInbox,
  deployOperatorRegistry,
  deployOutbox,
  inboxAbi,
  outboxAbi,
  packSignatures,
  readOperatorSet,
  startAnvil,
} from "../../contracts/index.ts"
import {
  type AttestationRefused,
  type AttestationSigned,
  BlockRef,
  Bytes32,
  type ChainHeadRead,
  Checkpoint,
  type CheckpointAttested,
  CheckpointProposed,
  type Envelope,
  makeEnvelope,
  OutboxLaneRead,
  toAddress,
} from "../../schemas/index.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { type ChorusConfig, decodeConfig } from "../config/index.ts"
import { makeOutboxObserver, startOperator } from "../operator/index.ts"
import { SignedRoots } from "../operator/signed-roots.ts"
import { producerOf, quietLogger, type RunningService } from "../runtime/index.ts"
import { startAttestationCollector } from "./index.ts"

const CHAIN_ID = 9_101
const DEPLOYER = ANVIL_DEFAULT_KEYS[0]
const WAIT = { timeoutMs: 45_000, intervalMs: 50 }

type Wallet = WalletClient<Transport, Chain | undefined, Account>
interface Node {
  readonly anvil: Anvil
  readonly publicClient: PublicClient
  readonly walletClient: Wallet
  readonly mine: (blocks: number) => Promise<void>
}

const connect = async (anvil: Anvil): Promise<Node> => {
  const chain = defineChain({
    id: CHAIN_ID,
    name: "flow",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  })
  const transport = http(anvil.rpcUrl)
  const testClient = createTestClient({ chain, transport, mode: "anvil" })
  return {
    anvil,
    publicClient: createPublicClient({ chain, transport }) as PublicClient,
    walletClient: createWalletClient({ chain, transport, account: privateKeyToAccount(DEPLOYER) }),
    mine: (blocks) => testClient.mine({ blocks }),
  }
}

const send = async (node: Node, outbox: Hex, bodies: ReadonlyArray<string>) => {
  for (const body of bodies) {
    const hash = await node.walletClient.writeContract({
      address: outbox,
      abi: outboxAbi,
      functionName: "send",
      args: [BigInt(CHAIN_ID), "0x000000000000000000000000000000000000beef", 100_000n, stringToHex(body)],
      account: node.walletClient.account,
      chain: node.walletClient.chain,
    })
    expect((await node.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success")
  }
}

/** Operators ascending by address; the one at FORKED reads a second anvil with another history. */
const addressOfKey = (key: Hex) => BigInt(privateKeyToAccount(key).address)
const KEYS = Array.from({ length: 4 }, (_, i) => keccak256(stringToHex(`flow-operator-${i}`))).sort((a, b) =>
  addressOfKey(a) < addressOfKey(b) ? -1 : 1,
)
const operators: LocalAccount[] = KEYS.map((key) => privateKeyToAccount(key))
const WEIGHTS = [3n, 2n, 2n, 2n]
const FORKED = 2
const honest = operators.filter((_, i) => i !== FORKED)

let dir: string
let bus: EmbeddedBus
let main: Node
let fork: Node
let outbox: Hex
let inbox: Hex
let config: ChorusConfig
const running: RunningService[] = []
const outputs: Envelope[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "chorus-attestation-flow-"))
  main = await connect(await startAnvil({ chainId: CHAIN_ID, slotsInAnEpoch: 1 }))
  fork = await connect(await startAnvil({ chainId: CHAIN_ID, slotsInAnEpoch: 1 }))
  const clients = { publicClient: main.publicClient, walletClient: main.walletClient }
  // Nonce 0 on both chains: the same Outbox address, holding different messages.
  outbox = await deployOutbox(clients)
  expect(await deployOutbox({ publicClient: fork.publicClient, walletClient: fork.walletClient })).toBe(
    outbox,
  )
  const registry = await deployOperatorRegistry(clients, {
    operators: operators.map((o, i) => ({ address: o.address, weight: WEIGHTS[i]! })),
    thresholdBps: 6667,
  })
  inbox = await deployInbox(clients, { registryChainId: CHAIN_ID, registry })
  await configureInbox(clients, {
    inbox,
    operatorSet: await readOperatorSet({ publicClient: main.publicClient, registry }),
    sources: [{ chainId: BigInt(CHAIN_ID), outbox }],
  })
  await send(main, outbox, ["ping 0", "ping 1", "ping 2"])
  await send(fork, outbox, ["forged 0", "forged 1", "forged 2"])
  await main.mine(3)
  await fork.mine(12)

  config = decodeConfig({
    network: { registryChainId: CHAIN_ID, registry: registry.toLowerCase() },
    chains: [
      {
        chainId: CHAIN_ID,
        rpcUrls: [main.anvil.rpcUrl],
        outbox: outbox.toLowerCase(),
        inbox: inbox.toLowerCase(),
        finality: { tag: "finalized" },
      },
    ],
    operators: KEYS.map((privateKey, i) => ({
      privateKey,
      finalityWaitMs: 20_000,
      ...(i === FORKED ? { rpcUrls: { [String(CHAIN_ID)]: [fork.anvil.rpcUrl] } } : {}),
    })),
  })
  bus = await openEmbeddedBus({ dataDir: join(dir, "bus") })
  await bus.ensureTopics(ALL_TOPICS)
  const logger = quietLogger({ write: () => true })
  const onOutput = (envelope: Envelope) => outputs.push(envelope)
  for (const operator of config.operators)
    running.push(await startOperator({ bus, config, operator, logger, onOutput }))
  running.push(await startAttestationCollector({ bus, config, logger, onOutput }))
}, 120_000)

afterAll(async () => {
  await Promise.allSettled(running.map((s) => s.stop()))
  await bus?.close()
  await Promise.allSettled([main?.anvil.stop(), fork?.anvil.stop()])
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** The first operator's observer of the main chain under `finality`, waiting 300 ms for it at most. */
const observerOnMain = (finality: Finality) => {
  const reader = makeEvmReader(makeEvmClient({ chainId: CHAIN_ID, rpcUrls: [main.anvil.rpcUrl] }), {
    finality,
    logRange: { initial: 100, max: 100 },
  })
  return makeOutboxObserver({
    operator: toAddress(operators[0]!.address),
    chains: [{ chainId: CHAIN_ID as never, outbox: toAddress(outbox) }],
    readerFor: () => reader,
    finalityWaitMs: 300,
    maxBlocksAhead: 64,
    logger: quietLogger({ write: () => true }),
    signal: new AbortController().signal,
    pollIntervalMs: 50,
    rpcFaults: { unreachableAfterMs: 60_000, logEveryMs: 60_000 },
    record: async () => {},
  })
}

/** A proposal of the real Outbox's lane at the main chain's finalized block, as the proof-builder would publish it. */
const proposalFromChain = async (over: { root?: Bytes32; block?: BlockRef } = {}) => {
  const block = await main.publicClient.getBlock({ blockTag: "finalized" })
  const latest = await main.publicClient.readContract({
    address: outbox,
    abi: outboxAbi,
    functionName: "latestCheckpoint",
    args: [BigInt(CHAIN_ID)],
    blockNumber: block.number,
  })
  const proposal = new CheckpointProposed({
    checkpoint: new Checkpoint({
      srcChainId: CHAIN_ID as never,
      outbox: toAddress(outbox),
      dstChainId: CHAIN_ID as never,
      root: over.root ?? Bytes32.make(latest.root),
      count: latest.count,
    }),
    previousCount: 0,
    block: over.block ?? new BlockRef({ number: Number(block.number), hash: Bytes32.make(block.hash) }),
  })
  return makeEnvelope(proposal, {
    producer: producerOf("proof-builder", "proof-builder"),
    causationId: null,
    time: new Date(),
  })
}

/** …published on the bus, as the proof-builder would. */
const proposeFromChain = async (over: { root?: Bytes32 } = {}) => {
  const envelope = await proposalFromChain(over)
  await publishEvents(bus, [envelope])
  return envelope
}

const caused = (by: Envelope) => outputs.filter((o) => o.causationId === by.id)
const of = <T>(list: ReadonlyArray<Envelope>, type: string) =>
  list.filter((o) => o.type === type).map((o) => o.event as T)

describe("operators and the attestation-collector on anvil", () => {
  it("an operator reads the Outbox at the proposal's block on its own RPC, or nothing if it never finalizes", async () => {
    // given an operator's observer on the main chain, with a confirmation-depth finality rule
    const observe = observerOnMain({ confirmations: 2 })
    const state = { signed: new SignedRoots() }
    // when it observes a proposal at a block its RPC has finalized
    const proposal = await proposalFromChain()
    const [read] = await observe(state, proposal)
    // then it records the Outbox's root and count at that block, with the block's hash from its own RPC
    const event = proposal.event as CheckpointProposed
    expect(read).toBeInstanceOf(OutboxLaneRead)
    const lane = read as OutboxLaneRead
    expect([lane.root, lane.count]).toEqual([event.checkpoint.root, event.checkpoint.count])
    expect(lane.block).toEqual(event.block)
    expect(lane.finalized.number).toBeGreaterThanOrEqual(event.block.number)
    expect(lane.reader).toBe(toAddress(operators[0]!.address))
    // when the proposal names a block far beyond its RPC's head
    const head = await main.publicClient.getBlockNumber()
    const ahead = await proposalFromChain({
      block: new BlockRef({ number: Number(head) + 1_000, hash: Bytes32.make(`0x${"ab".repeat(32)}`) }),
    })
    // then it records only its own latest head, at once, without waiting (the core refuses: not-finalized)
    const started = Date.now()
    const reads = await observe(state, ahead)
    expect(reads.map((r) => r._tag)).toEqual(["ChainHeadRead"])
    expect((reads[0] as ChainHeadRead).latest.number).toBeGreaterThanOrEqual(Number(head))
    expect(Date.now() - started).toBeLessThan(300)
  })

  it("an operator whose confirmation depth is deeper than its chain takes no block as final, not even block 0", async () => {
    // given an operator's observer whose depth (10 000 confirmations) is deeper than the main chain is long
    const observe = observerOnMain({ confirmations: 10_000 })
    // when it observes a proposal at block 0
    const genesis = await main.publicClient.getBlock({ blockNumber: 0n })
    const atGenesis = await proposalFromChain({
      block: new BlockRef({ number: 0, hash: Bytes32.make(genesis.hash) }),
    })
    // then it waits for finality and, once its wait is over, records only its latest head (the core refuses:
    // not-finalized): block 0 exists, so it was worth the wait
    expect((await observe({ signed: new SignedRoots() }, atGenesis)).map((r) => r._tag)).toEqual([
      "ChainHeadRead",
    ])
  })

  it("honest operators sign, the one on another history refuses, and the Inbox accepts the attestation", async () => {
    // given a proposal that matches the main chain's Outbox (3 messages)
    const proposal = await proposeFromChain()
    // when the operators and the collector handle it
    await waitFor(
      "every operator's answer and the attestation",
      () =>
        caused(proposal).filter((o) => o.producer.service === "operator").length === 4 &&
        outputs.some((o) => o.type === "CheckpointAttested"),
      { ...WAIT, detail: () => outputs.map((o) => o.type).join(", ") },
    )
    const answers = caused(proposal)
    // then the three honest operators signed it
    const signatures = of<AttestationSigned>(answers, "AttestationSigned")
    expect(signatures.map((s) => s.operator).sort()).toEqual(honest.map((o) => toAddress(o.address)).sort())
    // and the operator whose RPC shows a different Outbox history refused, naming what it saw
    const [refusal] = of<AttestationRefused>(answers, "AttestationRefused")
    expect(refusal!.operator).toBe(toAddress(operators[FORKED]!.address))
    expect(["root-mismatch", "count-mismatch"]).toContain(refusal!.reason)
    expect(refusal!.detail).toMatch(/its own RPC shows/)
    // and the collector attested it with the honest signers' 7 of 9, ascending
    const [attested] = of<CheckpointAttested>(outputs, "CheckpointAttested")
    expect(attested!.checkpoint).toEqual((proposal.event as CheckpointProposed).checkpoint)
    expect(attested!.signatures.map((s) => s.signer)).toEqual(honest.map((o) => toAddress(o.address)))
    expect([attested!.signedStake, attested!.totalStake, attested!.thresholdBps]).toEqual(["7", "9", 6667])
    // and the real Inbox commits it with those signatures, packed
    const checkpoint = attested!.checkpoint
    const hash = await main.walletClient.writeContract({
      address: inbox,
      abi: inboxAbi,
      functionName: "commit",
      args: [
        {
          srcChainId: BigInt(checkpoint.srcChainId),
          outbox: checkpoint.outbox as Hex,
          dstChainId: BigInt(checkpoint.dstChainId),
          root: checkpoint.root as Hex,
          count: checkpoint.count,
          epoch: BigInt(attested!.epoch),
        },
        packSignatures(
          attested!.signatures.map((s) => ({ signer: s.signer as Hex, signature: s.signature as Hex })),
        ),
      ],
      account: main.walletClient.account,
      chain: main.walletClient.chain,
    })
    expect((await main.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success")
    expect(
      await main.publicClient.readContract({
        address: inbox,
        abi: inboxAbi,
        functionName: "committedCount",
        args: [BigInt(CHAIN_ID), outbox, checkpoint.root as Hex],
      }),
    ).toBe(checkpoint.count)
  })

  it("an operator restarted from its log refuses a second root for a count it signed", async () => {
    // given an honest operator that signed the lane at count 3, stopped and started again
    const index = operators.indexOf(honest[0]!)
    const before = running[index]!
    await before.stop()
    const logger = quietLogger({ write: () => true })
    running[index] = await startOperator({
      bus,
      config,
      operator: config.operators[index]!,
      logger,
      onOutput: (envelope) => outputs.push(envelope),
    })
    // when a proposal of the same lane and count with another root is published
    const conflicting = await proposeFromChain({ root: Bytes32.make(`0x${"ee".repeat(32)}`) })
    // then the restarted operator refuses it as a conflicting signature
    const me = toAddress(honest[0]!.address)
    await waitFor(
      "the restarted operator's answer",
      () =>
        caused(conflicting).some(
          (o) => o.producer.service === "operator" && (o.event as AttestationRefused).operator === me,
        ),
      {
        ...WAIT,
        detail: () =>
          caused(conflicting)
            .map((o) => o.type)
            .join(", "),
      },
    )
    const answer = caused(conflicting).find((o) => (o.event as AttestationRefused).operator === me)!
    expect(answer.type).toBe("AttestationRefused")
    expect((answer.event as AttestationRefused).reason).toBe("conflicting-signature")
  })
})
