// Integration: anvil with a deployed Outbox, the embedded bus, and the proof-builder as a service. The test plays
// the chain-watcher itself: it sends messages, builds their MessageObserved events from the receipts' logs and
// publishes them.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Account,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  type Hash,
  type Hex,
  http,
  type PublicClient,
  parseEventLogs,
  type Transport,
  toHex,
  type Address as ViemAddress,
  type WalletClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../../../bus/contract/index.ts"
import { openEmbeddedBus } from "../../../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../../../bus/events/index.ts"
import type { BusPort } from "../../../bus/port.ts"
import { chainDefinition } from "../../../chains/evm/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../../../contracts/anvil/index.ts"
import { type Anvil, deployOutbox, outboxAbi, startAnvil } from "../../../contracts/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  type CheckpointProposed,
  type Envelope,
  Message,
  MessageId,
  MessageObserved,
  type MessageProven,
  makeEnvelope,
  type OutboxLaneRead,
  TxHash,
  toAddress,
  toU256,
  Hex as WireHex,
} from "../../../schemas/index.ts"
import { TOPICS, type TopicName } from "../../../topology/index.ts"
import { type ChorusConfig, decodeConfig } from "../../config/index.ts"
import { foldCore, jsonLogger, producerOf, type RunningService } from "../../runtime/index.ts"
import { computeMessageId } from "../core/index.ts"
import { verifyRangeProof } from "../merkle/index.ts"
import { proofBuilderCoreFor, startProofBuilder } from "./index.ts"

const SRC = 901
const DST = 902
/** anvil's first funded key. */
const KEY = ANVIL_DEFAULT_KEYS[0]
const RECIPIENT: ViemAddress = "0x000000000000000000000000000000000000cafe"
const watcher = producerOf("chain-watcher", String(SRC))
const WAIT = { timeoutMs: 30_000 }

describe("proof-builder on anvil and the embedded bus", () => {
  let anvil: Anvil
  let dir: string
  let bus: BusPort
  let publicClient: PublicClient
  let walletClient: WalletClient<Transport, Chain, Account>
  let outbox: ViemAddress
  let config: ChorusConfig
  const running: RunningService[] = []

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: SRC })
    const chain = chainDefinition(SRC, [anvil.rpcUrl])
    publicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl) }) as PublicClient
    walletClient = createWalletClient({
      chain,
      transport: http(anvil.rpcUrl),
      account: privateKeyToAccount(KEY),
    })
    outbox = await deployOutbox({ walletClient, publicClient })
    dir = mkdtempSync(join(tmpdir(), "chorus-proof-builder-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(Object.values(TOPICS))
    config = decodeConfig({
      network: { registryChainId: SRC, registry: "0x0000000000000000000000000000000000000001" },
      chains: [
        {
          chainId: SRC,
          rpcUrls: [anvil.rpcUrl],
          outbox: outbox.toLowerCase(),
          inbox: "0x0000000000000000000000000000000000000002",
          finality: { confirmations: 0 },
        },
      ],
      proofBuilder: { chunkSize: 4 },
    })
  })

  afterAll(async () => {
    for (const service of running) await service.stop()
    await bus?.close()
    await anvil?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  const send = (from: ViemAddress, i: number, dst = DST) =>
    walletClient.writeContract({
      address: from,
      abi: outboxAbi,
      functionName: "send",
      args: [BigInt(dst), RECIPIENT, 100_000n, toHex(`hello ${i}`)],
      gas: 500_000n,
    })

  /** What the chain-watcher would publish for the messages a transaction sent. */
  const observedFrom = async (hash: Hash): Promise<Envelope[]> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe("success")
    const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber })
    return parseEventLogs({ abi: outboxAbi, eventName: "MessageSent", logs: receipt.logs }).map((log) => {
      const m = log.args.message
      const event = new MessageObserved({
        message: new Message({
          version: m.version,
          nonce: m.nonce,
          srcChainId: ChainId.make(Number(m.srcChainId)),
          sender: toAddress(m.sender),
          dstChainId: ChainId.make(Number(m.dstChainId)),
          recipient: toAddress(m.recipient),
          gasLimit: toU256(m.gasLimit),
          body: WireHex.make(m.body.toLowerCase()),
        }),
        messageId: MessageId.make(log.args.messageId.toLowerCase()),
        outbox: toAddress(log.address),
        block: new BlockRef({
          number: Number(log.blockNumber),
          hash: Bytes32.make(log.blockHash.toLowerCase()),
        }),
        blockTimestamp: Number(block.timestamp),
        transactionHash: TxHash.make(log.transactionHash.toLowerCase()),
        logIndex: log.logIndex,
      })
      return makeEnvelope(event, { producer: watcher, causationId: null, time: new Date() })
    })
  }

  const readAll = async (topic: TopicName): Promise<Envelope[]> => {
    const envelopes: Envelope[] = []
    for await (const item of readEvents(bus, { topic, from: "earliest" })) {
      if (item.ok) envelopes.push(item.envelope)
    }
    return envelopes
  }

  const outboxRoot = () =>
    publicClient.readContract({ address: outbox, abi: outboxAbi, functionName: "root", args: [BigInt(DST)] })

  const verifies = (proven: MessageProven) =>
    verifyRangeProof({
      root: proven.checkpoint.root as Hex,
      start: proven.start,
      count: proven.checkpoint.count,
      leaves: proven.messageIds as ReadonlyArray<Hex>,
      siblings: proven.proof as ReadonlyArray<Hex>,
    })

  it("proposes the Outbox's root with verifying proofs, and resumes after a restart without republishing", async () => {
    // given 10 messages on the lane 901 -> 902: four in one block, then six in blocks of their own
    const testClient = createTestClient({
      chain: walletClient.chain,
      transport: http(anvil.rpcUrl),
      mode: "anvil",
    })
    await testClient.setAutomine(false)
    const batched: Hash[] = []
    for (let i = 0; i < 4; i++) batched.push(await send(outbox, i))
    await testClient.mine({ blocks: 1 })
    await testClient.setAutomine(true)
    const inputs: Envelope[] = []
    for (const hash of batched) inputs.push(...(await observedFrom(hash)))
    expect(new Set(inputs.map((e) => (e.event as MessageObserved).block.number)).size).toBe(1)
    for (let i = 4; i < 10; i++) inputs.push(...(await observedFrom(await send(outbox, i))))
    expect(inputs.map((e) => (e.event as MessageObserved).message.nonce)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ])
    // and one message from an Outbox that is not configured
    const stranger = await deployOutbox({ walletClient, publicClient })
    const foreign = await observedFrom(await send(stranger, 99))
    await publishEvents(bus, [...inputs, ...foreign])

    // when the proof-builder starts
    const warnings: string[] = []
    const logger = jsonLogger({ write: (line) => warnings.push(line) }, "warn")
    const first: Envelope[] = []
    running.push(await startProofBuilder({ bus, config, logger, onOutput: (e) => first.push(e) }))
    const proposed = () =>
      first.filter((e) => e.type === "CheckpointProposed").map((e) => e.event as CheckpointProposed)
    await waitFor("a checkpoint of 10 messages", () => proposed().some((p) => p.checkpoint.count === 10), {
      ...WAIT,
      detail: () =>
        proposed()
          .map((p) => p.checkpoint.count)
          .join(","),
    })

    // then it proposed once per block, the last with the Outbox's root
    expect(proposed().map((p) => [p.previousCount, p.checkpoint.count])).toEqual([
      [0, 4],
      [4, 5],
      [5, 6],
      [6, 7],
      [7, 8],
      [8, 9],
      [9, 10],
    ])
    const last = proposed().at(-1)!
    expect(last.checkpoint).toMatchObject({ srcChainId: SRC, outbox: outbox.toLowerCase(), dstChainId: DST })
    expect(last.checkpoint.root).toBe(await outboxRoot())
    // and every range and single proof verifies against its checkpoint, the ranges covering [0, 10) once
    const proven = first.filter((e) => e.type === "MessageProven").map((e) => e.event as MessageProven)
    expect(proven.length).toBeGreaterThan(0)
    for (const p of proven) expect(verifies(p)).toBe(true)
    const ranges = proven.filter((p) => p.kind === "range")
    expect(ranges.flatMap((p) => p.messageIds)).toEqual(
      inputs.map((e) => (e.event as MessageObserved).messageId),
    )
    expect(ranges.find((p) => p.checkpoint.count === 4)?.messages.map((m) => m.nonce)).toEqual([0, 1, 2, 3])
    expect(proven.filter((p) => p.kind === "single").map((p) => p.start)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ])
    // and it read the Outbox once per block (the block of four was read once)
    const reads = (await readAll(TOPICS.laneReads.name)).map((e) => e.event as OutboxLaneRead)
    expect(reads.map((r) => [r.block.number, r.count])).toEqual(
      proposed().map((p) => [p.block.number, p.checkpoint.count]),
    )
    expect(reads.every((r) => r.reader === "proof-builder")).toBe(true)
    // and the foreign Outbox's message was logged and ignored
    expect(warnings.join("")).toContain(stranger.toLowerCase())
    expect(first.every((e) => !JSON.stringify(e.event).includes(stranger.toLowerCase()))).toBe(true)

    // when it is stopped, a new one starts on the same bus, a message is republished and two new ones are sent
    await running.pop()!.stop()
    const second: Envelope[] = []
    running.push(await startProofBuilder({ bus, config, logger, onOutput: (e) => second.push(e) }))
    const again = makeEnvelope(inputs[9]!.event, {
      producer: watcher,
      causationId: inputs[9]!.id,
      time: new Date(),
    })
    const more = [
      ...(await observedFrom(await send(outbox, 10))),
      ...(await observedFrom(await send(outbox, 11))),
    ]
    await publishEvents(bus, [again, ...more])
    const reproposed = () =>
      second.filter((e) => e.type === "CheckpointProposed").map((e) => e.event as CheckpointProposed)
    await waitFor("a checkpoint of 12 messages", () => reproposed().some((p) => p.checkpoint.count === 12), {
      ...WAIT,
      detail: () =>
        reproposed()
          .map((p) => p.checkpoint.count)
          .join(","),
    })

    // then it rebuilt its trees from the log: it continues from 10, and republished nothing it had proposed
    expect(reproposed().map((p) => [p.previousCount, p.checkpoint.count])).toEqual([
      [10, 11],
      [11, 12],
    ])
    expect(reproposed().at(-1)!.checkpoint.root).toBe(await outboxRoot())
    const proposals = await readAll(TOPICS.checkpointsProposed.name)
    const counts = proposals.map((e) => (e.event as CheckpointProposed).checkpoint.count)
    expect(counts).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12])
    expect(new Set(proposals.map((e) => e.id)).size).toBe(proposals.length)

    // and a replay of its input log with the recorded reads reproduces every output id, in order
    const recorded = new Map<string, Envelope[]>()
    for (const read of await readAll(TOPICS.laneReads.name)) {
      const list = recorded.get(read.causationId!) ?? []
      recorded.set(read.causationId!, [...list, read])
    }
    const replay = foldCore(
      proofBuilderCoreFor(config),
      producerOf("proof-builder", "proof-builder"),
      (await readAll(TOPICS.messagesObserved.name)).map((input) => ({
        input,
        reads: recorded.get(input.id) ?? [],
      })),
    )
    const provenOnBus = await readAll(TOPICS.messagesProven.name)
    expect(replay.outputs.filter((e) => e.type !== "MessageProven").map((e) => e.id)).toEqual(
      proposals.map((e) => e.id),
    )
    expect(replay.outputs.filter((e) => e.type === "MessageProven").map((e) => e.id)).toEqual(
      provenOnBus.map((e) => e.id),
    )
  })

  it("rejects forged observations of a lane's next nonce, without holding the partition, and proposes the real one", async () => {
    // given a running proof-builder that waits 500 ms for a block to become final, on a fresh lane 901 -> 903
    for (const service of running.splice(0)) await service.stop()
    const outputs: Envelope[] = []
    const logger = jsonLogger({ write: () => undefined }, "warn")
    running.push(
      await startProofBuilder({
        bus,
        config,
        logger,
        onOutput: (e) => outputs.push(e),
        finalityGraceMs: 500,
      }),
    )
    const head = await publicClient.getBlock({ blockTag: "latest" })
    const forgedAt = (block: BlockRef, body: string) => {
      const message = new Message({
        version: 1,
        nonce: 0,
        srcChainId: ChainId.make(SRC),
        sender: toAddress(walletClient.account.address),
        dstChainId: ChainId.make(903),
        recipient: toAddress(RECIPIENT),
        gasLimit: toU256(100_000n),
        body: WireHex.make(toHex(body)),
      })
      const computed = computeMessageId(message)
      if (!computed.ok) throw new Error(computed.reason)
      const event = new MessageObserved({
        message,
        messageId: MessageId.make(computed.id),
        outbox: toAddress(outbox),
        block,
        blockTimestamp: Number(head.timestamp),
        transactionHash: TxHash.make(`0x${"f0".repeat(32)}`),
        logIndex: 0,
      })
      return makeEnvelope(event, { producer: watcher, causationId: null, time: new Date() })
    }
    // when a stranger publishes nonce 0 of that lane at the latest block (nothing sent to 903 yet) and at a
    // block the chain has not reached, before any message is sent to 903
    const atHead = forgedAt(
      new BlockRef({ number: Number(head.number), hash: Bytes32.make(head.hash) }),
      "forged at head",
    )
    const ahead = forgedAt(
      new BlockRef({ number: Number(head.number) + 1_000_000, hash: Bytes32.make(`0x${"0f".repeat(32)}`) }),
      "forged ahead",
    )
    await publishEvents(bus, [atHead, ahead])
    const rejected = () =>
      outputs
        .filter((e) => e.type === "MessageRejected")
        .map((e) => e.event as { messageId: string; reason: string })
    // then the first is rejected on the Outbox's count, and the second is deferred after the grace period
    await waitFor("the forgery at the head rejected", () => rejected().length === 1, WAIT)
    expect(rejected()).toEqual([
      expect.objectContaining({
        messageId: (atHead.event as MessageObserved).messageId,
        reason: "nonce-not-sent-by-block",
      }),
    ])
    // when the real nonce 0 is sent to 903 and observed
    const real = await observedFrom(await send(outbox, 0, 903))
    await publishEvents(bus, real)
    // then it is proposed with the Outbox's root, the deferred forgery is rejected, and nothing stalled
    const to903 = () =>
      outputs
        .filter((e) => e.type === "CheckpointProposed")
        .map((e) => e.event as CheckpointProposed)
        .filter((p) => p.checkpoint.dstChainId === 903)
    await waitFor("a checkpoint of the real message to 903", () => to903().length === 1, WAIT)
    const root903 = await publicClient.readContract({
      address: outbox,
      abi: outboxAbi,
      functionName: "root",
      args: [903n],
    })
    expect(to903()[0]!.checkpoint).toMatchObject({ count: 1, root: root903 })
    await waitFor("both forgeries rejected", () => rejected().length === 2, WAIT)
    expect(rejected()[1]).toMatchObject({
      messageId: (ahead.event as MessageObserved).messageId,
      reason: "nonce-sent-before-block",
    })
    expect(outputs.filter((e) => e.type === "LaneStalled")).toEqual([])
  })
})
