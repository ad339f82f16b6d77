import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Account,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  parseEventLogs,
  stringToHex,
  type Transport,
  type WalletClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/support.ts"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { chainDefinition } from "../../chains/evm/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../../contracts/anvil/index.ts"
import { type Anvil, deployOutbox, outboxAbi, startAnvil } from "../../contracts/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  type CheckpointProposed,
  type Envelope,
  Lane,
  LaneStalled,
  MessageId,
  MessageObserved,
  makeEnvelope,
  TxHash,
  toAddress,
  WatcherCursor,
} from "../../schemas/index.ts"
import { resumedEnvelope } from "../../schemas/testing/chain-halts.ts"
import { type LossyRpc, startLossyRpc } from "../../test/fixtures/lossy-rpc.ts"
import { ALL_TOPICS, TOPICS, type TopicName } from "../../topology/index.ts"
import { decodeConfig } from "../config/index.ts"
import { startProofBuilder } from "../proof-builder/service/index.ts"
import { fromChorusMessage, jsonLogger, producerOf } from "../runtime/index.ts"
import { ChainHaltedError, ChainStillHaltedError, ResumeRefutedError } from "./errors.ts"
import { type ChainWatcher, startChainWatcher, type TickResult } from "./index.ts"

const CHAIN_ID = 901
const DEPLOYER = privateKeyToAccount(ANVIL_DEFAULT_KEYS[0])
const RECIPIENT = "0x000000000000000000000000000000000000dEaD"
const DESTINATIONS = [902, 903]

let anvil: Anvil
let publicClient: PublicClient
let walletClient: WalletClient<Transport, Chain, Account>
let testClient: ReturnType<typeof makeTestClient>
const makeTestClient = (url: string) =>
  createTestClient({ chain: chainDefinition(CHAIN_ID, [url]), transport: http(url), mode: "anvil" })

beforeAll(async () => {
  anvil = await startAnvil({ chainId: CHAIN_ID, slotsInAnEpoch: 1 })
  const chain = chainDefinition(CHAIN_ID, [anvil.rpcUrl])
  publicClient = createPublicClient({
    chain,
    transport: http(anvil.rpcUrl),
    pollingInterval: 50,
  }) as PublicClient
  walletClient = createWalletClient({ chain, transport: http(anvil.rpcUrl), account: DEPLOYER })
  testClient = makeTestClient(anvil.rpcUrl)
})
afterAll(async () => {
  await anvil?.stop()
})

let dir: string
let bus: BusPort
let logLines: string[] = []
const running: ChainWatcher[] = []
beforeEach(async () => {
  logLines = []
  dir = mkdtempSync(join(tmpdir(), "chorus-chain-watcher-"))
  bus = await openEmbeddedBus({ dataDir: dir })
  await bus.ensureTopics(ALL_TOPICS)
})
afterEach(async () => {
  await Promise.all(running.splice(0).map((watcher) => watcher.stop()))
  await bus.close()
  rmSync(dir, { recursive: true, force: true })
})

const logged = (msg: string) => logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === msg)

const configFor = (
  outbox: Hex,
  startBlock: number,
  finality: object,
  rpcUrls: ReadonlyArray<string> = [anvil.rpcUrl],
  extra: object = {},
) =>
  decodeConfig({
    ...extra,
    network: { registryChainId: CHAIN_ID, registry: `0x${"11".repeat(20)}` },
    chains: [
      {
        chainId: CHAIN_ID,
        rpcUrls,
        outbox: outbox.toLowerCase(),
        inbox: `0x${"22".repeat(20)}`,
        finality,
      },
      // The destinations: the lanes whose counts prove each range complete.
      ...DESTINATIONS.map((chainId) => ({
        chainId,
        rpcUrls: ["http://127.0.0.1:1"],
        outbox: `0x${"33".repeat(20)}`,
        inbox: `0x${"44".repeat(20)}`,
      })),
    ],
    chainWatcher: { pollIntervalMs: 20, initialRange: 2, maxRange: 4, startBlock, retryCount: 0 },
  })

const start = async (
  config: ReturnType<typeof configFor>,
  options: { bus?: BusPort; autoStart?: boolean; nonceRereadEveryMs?: number } = {},
) => {
  const watcher = await startChainWatcher({
    bus: options.bus ?? bus,
    config,
    chainId: CHAIN_ID,
    logger: jsonLogger({ write: (line) => logLines.push(line) }, "debug"),
    ...(options.autoStart === undefined ? {} : { autoStart: options.autoStart }),
    ...(options.nonceRereadEveryMs === undefined ? {} : { nonceRereadEveryMs: options.nonceRereadEveryMs }),
  })
  running.push(watcher)
  return watcher
}

/**
 * Sends a message and returns its id as the Outbox computed it, its block, and the `MessageObserved` a watcher
 * makes of its log (ground truth from the receipt).
 */
const send = async (outbox: Hex, body: string, dst = 902) => {
  const hash = await walletClient.writeContract({
    address: outbox,
    abi: outboxAbi,
    functionName: "send",
    args: [BigInt(dst), RECIPIENT, 100_000n, stringToHex(body)],
  })
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  const [log] = parseEventLogs({ abi: outboxAbi, logs: receipt.logs, eventName: "MessageSent" })
  const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber })
  const observed = new MessageObserved({
    message: fromChorusMessage(log!.args.message),
    messageId: MessageId.make(log!.args.messageId.toLowerCase()),
    outbox: toAddress(log!.address),
    block: new BlockRef({
      number: Number(receipt.blockNumber),
      hash: Bytes32.make(block.hash.toLowerCase()),
    }),
    blockTimestamp: Number(block.timestamp),
    transactionHash: TxHash.make(receipt.transactionHash.toLowerCase()),
    logIndex: log!.logIndex,
  })
  return { messageId: log!.args.messageId, block: Number(receipt.blockNumber), observed }
}

const onBus = async <T extends Envelope["event"]["_tag"]>(topic: TopicName, type: T) => {
  const found: Envelope[] = []
  for await (const item of readEvents(bus, { topic, from: "earliest" })) {
    if (item.ok && item.envelope.type === type) found.push(item.envelope)
  }
  return found as Array<Envelope<Extract<Envelope["event"], { _tag: T }>>>
}

/** Ticks until the watcher has nothing left to read. */
const tickUntilIdle = async (watcher: ChainWatcher): Promise<TickResult[]> => {
  const results: TickResult[] = []
  for (let i = 0; i < 100; i++) {
    const result = await watcher.tick()
    results.push(result)
    if (result.kind === "idle") return results
    if (result.kind !== "advanced") throw new Error(`unexpected tick: ${JSON.stringify(result)}`)
  }
  throw new Error(`still not idle after 100 ticks; last: ${JSON.stringify(results.at(-1))}`)
}

/** The bus, except that publishing observed messages fails while `refuse()` holds. */
const refusingMessages = (inner: BusPort, refuse: () => boolean): BusPort => ({
  kind: inner.kind,
  ensureTopics: (topics) => inner.ensureTopics(topics),
  partitions: (topic) => inner.partitions(topic),
  publish: (records) =>
    refuse() && records.some((r) => r.topic === TOPICS.messagesObserved.name)
      ? Promise.reject(new Error("broker unavailable"))
      : inner.publish(records),
  subscribe: (options) => inner.subscribe(options),
  read: (options) => inner.read(options),
  watermarks: (topic) => inner.watermarks(topic),
  offsetsForTimestamp: (topic, timestamp) => inner.offsetsForTimestamp(topic, timestamp),
  committedOffsets: (groupId, topic) => inner.committedOffsets(groupId, topic),
  close: () => inner.close(),
})

describe("chain-watcher on anvil", () => {
  it("observes finalized messages, finishes a read left unfolded, and resumes from its cursor without duplicates", async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const startBlock = Number(await publicClient.getBlockNumber({ cacheTime: 0 }))
    // The first URL refuses connections: the fallback transport moves on to anvil.
    const config = configFor(outbox, startBlock, { tag: "finalized" }, ["http://127.0.0.1:1", anvil.rpcUrl])
    const sent = [await send(outbox, "a"), await send(outbox, "b"), await send(outbox, "c")]
    await testClient.mine({ blocks: 3 })

    // A reads its first range and publishes the read, but the bus refuses the messages.
    const first = await start(config, { bus: refusingMessages(bus, () => true), autoStart: false })
    const refused = await first.tick()
    expect(refused.kind).toBe("bus-error")
    expect(first.cursor()).toBeNull()
    await first.stop()
    const [leftRead] = await onBus(TOPICS.watcherReads.name, "OutboxRangeRead")
    expect(leftRead!.event.fromBlock).toBe(startBlock)

    // B, a fresh instance, folds A's read first, then reads on to the finalized head.
    const second = await start(config, { autoStart: false })
    expect(second.cursor()).toBeNull()
    const results = await tickUntilIdle(second)
    expect(results[0]).toMatchObject({ kind: "advanced", recovered: true, from: startBlock })
    expect(results.slice(1, -1).every((r) => r.kind === "advanced" && !r.recovered)).toBe(true)
    const observed = await onBus(TOPICS.messagesObserved.name, "MessageObserved")
    expect(observed.map((e) => e.event.messageId)).toEqual(sent.map((s) => s.messageId))
    expect(observed.map((e) => e.event.block.number)).toEqual(sent.map((s) => s.block))
    expect(observed[0]!.causationId).toBe(leftRead!.id)
    for (const envelope of observed) {
      const block = await publicClient.getBlock({ blockNumber: BigInt(envelope.event.block.number) })
      expect(envelope.event.block.hash).toBe(block.hash)
      expect(envelope.event.blockTimestamp).toBe(Number(block.timestamp))
      expect(envelope.event.message.srcChainId).toBe(CHAIN_ID)
    }
    const finalized = await publicClient.getBlock({ blockTag: "finalized" })
    expect(second.cursor()).toEqual(
      new BlockRef({ number: Number(finalized.number), hash: finalized.hash as Bytes32 }),
    )
    const cursorAfterB = second.cursor()
    await second.stop()
    await expect(second.done).resolves.toBeUndefined()

    // C, polling on its own over the reopened data dir, resumes from B's cursor and observes only the new messages.
    await bus.close()
    bus = await openEmbeddedBus({ dataDir: dir })
    sent.push(await send(outbox, "d"), await send(outbox, "e"))
    await testClient.mine({ blocks: 3 })
    const third = await start(config)
    expect(third.cursor()).toEqual(cursorAfterB)
    let all: Array<Envelope<MessageObserved>> = []
    await waitFor(
      "five messages observed",
      async () => {
        all = await onBus(TOPICS.messagesObserved.name, "MessageObserved")
        return all.length >= 5 && (third.cursor()?.number ?? 0) >= sent[4]!.block
      },
      { timeoutMs: 30_000, detail: () => `${all.length} observed, cursor ${third.cursor()?.number}` },
    )
    await third.stop()
    await expect(third.done).resolves.toBeUndefined()
    all = await onBus(TOPICS.messagesObserved.name, "MessageObserved")
    expect(all.map((e) => e.event.messageId)).toEqual(sent.map((s) => s.messageId))
    const cursors = await onBus(TOPICS.watcherCursors.name, "WatcherCursor")
    expect(cursors.at(-1)!.event.block).toEqual(third.cursor())
  })

  it("halts on a rewrite below its cursor, refuses to start while halted, and starts again from the block a resume trusts, once it finds it on the chain", async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const config = configFor(outbox, Number(await publicClient.getBlockNumber({ cacheTime: 0 })), {
      confirmations: 0,
    })
    await send(outbox, "before")
    const watcher = await start(config, { autoStart: false })
    await tickUntilIdle(watcher)
    const trusted = watcher.cursor()!

    const snapshot = await testClient.snapshot()
    const original = await send(outbox, "original")
    await tickUntilIdle(watcher)
    const seen = watcher.cursor()!
    expect(seen.number).toBe(original.block)

    // The block under the cursor is replaced; the chain is no longer ahead, so this is the idle check.
    await testClient.revert({ id: snapshot })
    const replacement = await send(outbox, "replacement")
    expect(replacement.block).toBe(seen.number)
    const replaced = await publicClient.getBlock({ blockNumber: BigInt(seen.number) })
    expect(replaced.hash).not.toBe(seen.hash)

    const halted = await watcher.tick()
    expect(halted).toMatchObject({
      kind: "halted",
      halt: {
        chainId: CHAIN_ID,
        blockNumber: seen.number,
        expectedHash: seen.hash,
        observedHash: replaced.hash,
      },
    })
    const error = await watcher.done.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ChainHaltedError)
    expect(error).toMatchObject({ chainId: CHAIN_ID, blockNumber: seen.number, expectedHash: seen.hash })
    // and says what to do: lift the halt with `chorus chain resume` from a block below the rewrite
    expect((error as Error).message).toMatch(
      new RegExp(`choose a block below ${seen.number} .*chorus chain resume ${CHAIN_ID} --from <block>`),
    )
    const halts = await onBus(TOPICS.chainHalts.name, "ChainHalted")
    expect(halts.map((e) => e.event.observedHash)).toEqual([replaced.hash])
    expect(halts[0]!.event.reason).toMatch(/finality violated/)
    expect(logged("chain halted: rewritten below the cursor")).toHaveLength(1)
    expect((await watcher.tick()).kind).toBe("halted")

    // Restarted as is, it refuses to start: the log shows its chain halted, and nothing lifted the halt (it used
    // to start and halt again on its old cursor, at every restart).
    await testClient.mine({ blocks: 2 })
    const refusal = await start(config, { autoStart: false }).catch((e: unknown) => e)
    expect(refusal).toBeInstanceOf(ChainStillHaltedError)
    expect((refusal as Error).message).toMatch(
      new RegExp(`chain ${CHAIN_ID} is halted on the log .*block ${seen.number} rewritten`),
    )
    expect((refusal as Error).message).toMatch(/chorus chain resume 901 --from <block> --hash <its hash>/)

    // A resume from a block the chain has, but with lane counts it does not show there: the watcher checks them
    // before it reads anything, and halts the chain again where the rewrite was found.
    const miscounted = resumedEnvelope(halts[0]!, {
      block: trusted.number,
      hash: trusted.hash,
      outbox,
      counts: { 902: 2, 903: 0 },
    })
    await publishEvents(bus, [miscounted])
    const counted = await start(config, { autoStart: false })
    const recount = await counted.tick()
    expect(recount).toMatchObject({ kind: "halted", halt: { blockNumber: seen.number } })
    if (recount.kind === "halted")
      expect(recount.reason).toMatch(
        /its RPC shows other lane counts there than the resume recorded \(lane 901 → 902: 1, not 2\)/,
      )
    await expect(counted.done).rejects.toBeInstanceOf(ResumeRefutedError)
    const rehalts = await onBus(TOPICS.chainHalts.name, "ChainHalted")
    expect(rehalts).toHaveLength(2)
    expect(rehalts[1]!.causationId).toBe(miscounted.id)

    // A resume whose trusted block the chain does not have: halted again, at that block.
    const forged = resumedEnvelope(rehalts[1]!, {
      block: trusted.number,
      hash: `0x${"66".repeat(32)}`,
      outbox,
      counts: { 902: 1, 903: 0 },
    })
    await publishEvents(bus, [forged])
    const mistaken = await start(config, { autoStart: false })
    const again = await mistaken.tick()
    expect(again).toMatchObject({
      kind: "halted",
      halt: { blockNumber: trusted.number, expectedHash: `0x${"66".repeat(32)}`, observedHash: trusted.hash },
    })
    await expect(mistaken.done).rejects.toBeInstanceOf(ResumeRefutedError)
    const thirdHalt = (await onBus(TOPICS.chainHalts.name, "ChainHalted"))[2]!
    expect(thirdHalt.event.blockNumber).toBe(trusted.number)
    expect(await onBus(TOPICS.messagesObserved.name, "MessageObserved")).toHaveLength(2)

    // A resume from below that (the block before the first message: nothing counted yet), with its hash and
    // counts: the watcher reads the new chain from there.
    const below = await publicClient.getBlock({ blockNumber: BigInt(trusted.number - 1) })
    const start0 = new BlockRef({ number: trusted.number - 1, hash: below.hash as Bytes32 })
    const resume = resumedEnvelope(thirdHalt, {
      block: start0.number,
      hash: start0.hash,
      outbox,
      counts: { 902: 0, 903: 0 },
    })
    await publishEvents(bus, [resume])
    const reset = await start(config, { autoStart: false })
    expect(reset.cursor()).toEqual(start0)
    await tickUntilIdle(reset)
    const observed = await onBus(TOPICS.messagesObserved.name, "MessageObserved")
    expect(observed.map((e) => e.event.messageId)).toContain(replacement.messageId)
    expect(observed.at(-1)!.event.messageId).toBe(replacement.messageId)
    // Every read and cursor since names the resume, so the last cursor alone says it was applied.
    const reads = await onBus(TOPICS.watcherReads.name, "OutboxRangeRead")
    const since = reads.filter((r) => r.event.resumedBy !== undefined)
    expect(since.length).toBeGreaterThan(0)
    expect(since.every((r) => r.event.resumedBy === resume.id)).toBe(true)
    expect(since[0]!.event.cursorCheck).toEqual(start0)
    const cursors = await onBus(TOPICS.watcherCursors.name, "WatcherCursor")
    expect(cursors.at(-1)!.event.resumedBy).toBe(resume.id)

    // Restarted, it goes on from its own cursor, not from the trusted block again.
    const reached = reset.cursor()
    await reset.stop()
    const restartedAfter = await start(config, { autoStart: false })
    expect(restartedAfter.cursor()).toEqual(reached)
    expect((await restartedAfter.tick()).kind).toBe("idle")
  })

  it("reports an unreachable RPC as an rpc-error outcome and keeps polling until stopped, logging the first failure and then summaries", async () => {
    const config = configFor(`0x${"33".repeat(20)}`, 0, { tag: "finalized" }, ["http://127.0.0.1:1"], {
      rpc: { logEveryMs: 1_000 },
    })
    const watcher = await start(config, { autoStart: false })

    const result = await watcher.tick()

    expect(result.kind).toBe("rpc-error")
    if (result.kind === "rpc-error")
      expect(result.reason).toMatch(/^RPC failed: .* at http:\/\/127\.0\.0\.1:1: /)
    // and the log line names the RPC that failed
    expect(logged("RPC failed; trying again")).toHaveLength(1)
    expect(logged("RPC failed; trying again")[0]).toMatchObject({
      rpc: "http://127.0.0.1:1",
      what: "reading the finalized head",
    })

    // The loop keeps trying, and says so once per logEveryMs, never once per tick.
    const polling = await start(config)
    await waitFor("a summary of the loop's failed ticks", () => logged("RPC still failing").length >= 1, {
      timeoutMs: 20_000,
    })
    await polling.stop()
    await expect(polling.done).resolves.toBeUndefined()
    expect(logged("RPC still failing")[0].attempts).toBeGreaterThan(2)
    expect(logged("RPC failed; trying again")).toHaveLength(2)
  })
})

describe("chain-watcher on an RPC that loses logs (issue 12)", () => {
  const proxies: LossyRpc[] = []
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()))
  })
  const lossy = async (dropRate: number, seed = 7) => {
    const proxy = await startLossyRpc({ upstream: anvil.rpcUrl, dropRate, seed })
    proxies.push(proxy)
    return proxy
  }
  const observedIds = async () =>
    (await onBus(TOPICS.messagesObserved.name, "MessageObserved")).map((e) => e.event.messageId)

  /** The cursor never passes a block whose messages are not all observed. */
  const expectNothingLostBehind = async (
    watcher: ChainWatcher,
    sent: ReadonlyArray<{ messageId: string; block: number }>,
  ) => {
    const cursor = watcher.cursor()?.number ?? -1
    const observed = new Set<string>(await observedIds())
    const passed = sent.filter((s) => s.block <= cursor && !observed.has(s.messageId))
    expect(passed, `the cursor at block ${cursor} passed messages never observed`).toEqual([])
  }

  it("given an RPC that drops 20% of eth_getLogs results, when the watcher reads to the head (restarted midway), then every message is observed once and the cursor never passes a lost one", async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const startBlock = Number(await publicClient.getBlockNumber({ cacheTime: 0 })) + 1
    const proxy = await lossy(0.2)
    const config = configFor(outbox, startBlock, { confirmations: 0 }, [proxy.url])
    const sent: Array<{ messageId: string; block: number }> = []
    for (let i = 0; i < 24; i++) sent.push(await send(outbox, `m${i}`, i % 3 === 0 ? 903 : 902))
    const last = sent.at(-1)!.block

    let watcher = await start(config, { autoStart: false })
    const results: TickResult[] = []
    for (let i = 0; i < 200 && (watcher.cursor()?.number ?? 0) < last; i++) {
      // A restart forgets the counts proven so far: the next read proves its start again.
      if (i === 4) {
        await watcher.stop()
        watcher = await start(config, { autoStart: false })
      }
      results.push(await watcher.tick())
      await expectNothingLostBehind(watcher, sent)
    }

    expect(proxy.stats().dropped, "the proxy dropped no log: the test proves nothing").toBeGreaterThan(0)
    expect(watcher.cursor()?.number).toBeGreaterThanOrEqual(last)
    // Once each; the topic is keyed by lane, so it is read lane by lane, not in chain order.
    expect((await observedIds()).sort()).toEqual(sent.map((s) => s.messageId).sort())
    expect(results.some((r) => r.kind === "advanced" && r.rereads > 0)).toBe(true)
    expect(logged("short eth_getLogs answer; reading the range again").length).toBeGreaterThan(0)
  })

  it("given an RPC that drops 20% of the logs and one block holding 60 messages (no read of it is ever whole), when the watcher ticks, then the union of its re-reads proves the block complete and every message is observed once", async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const startBlock = Number(await publicClient.getBlockNumber({ cacheTime: 0 })) + 1
    const proxy = await lossy(0.2, 3)
    const config = configFor(outbox, startBlock, { confirmations: 0 }, [proxy.url])
    // given: 60 sends mined together, so narrowing the range can never leave fewer logs to lose
    await testClient.setAutomine(false)
    const hashes: Hex[] = []
    try {
      for (let i = 0; i < 60; i++) {
        hashes.push(
          await walletClient.writeContract({
            address: outbox,
            abi: outboxAbi,
            functionName: "send",
            args: [BigInt(DESTINATIONS[i % 2]!), RECIPIENT, 100_000n, stringToHex(`crowd ${i}`)],
          }),
        )
      }
      await testClient.mine({ blocks: 1 })
    } finally {
      await testClient.setAutomine(true)
    }
    const receipts = await Promise.all(hashes.map((hash) => publicClient.waitForTransactionReceipt({ hash })))
    expect(new Set(receipts.map((r) => r.blockNumber)).size, "the sends were not mined in one block").toBe(1)
    const sent = receipts.flatMap((r) =>
      parseEventLogs({ abi: outboxAbi, logs: r.logs, eventName: "MessageSent" }).map((l) => l.args.messageId),
    )
    // when
    const watcher = await start(config, { autoStart: false })
    const result = await watcher.tick()
    // then
    expect(result.kind, JSON.stringify(result)).toBe("advanced")
    expect((await observedIds()).sort()).toEqual([...sent].sort())
    expect(proxy.stats().dropped, "the proxy dropped no log: the test proves nothing").toBeGreaterThan(0)
    // and every read the union was made of is on the log, the merged one naming the short one it completes
    const reads = await onBus(TOPICS.watcherReads.name, "OutboxRangeRead")
    expect(reads.length).toBeGreaterThan(1)
    expect(reads.at(-1)!.causationId).toBe(reads.at(-2)!.id)
  })

  it("given two RPCs, the first losing every log, when a read comes back short, then the range is read again from the second and both reads are on the log", async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const startBlock = Number(await publicClient.getBlockNumber({ cacheTime: 0 })) + 1
    const proxy = await lossy(1)
    const a = await send(outbox, "a")
    const b = await send(outbox, "b", 903)
    const config = configFor(outbox, startBlock, { confirmations: 0 }, [proxy.url, anvil.rpcUrl])
    const watcher = await start(config, { autoStart: false })

    const result = await watcher.tick()

    expect(result).toMatchObject({ kind: "advanced", from: startBlock, messages: 2, rereads: 1 })
    const reads = await onBus(TOPICS.watcherReads.name, "OutboxRangeRead")
    expect(reads).toHaveLength(2)
    const [short, reread] = [reads[0]!.event, reads[1]!.event]
    expect(short).toMatchObject({ fromBlock: startBlock, rpc: null, blocks: [] })
    const counts = (read: typeof short) =>
      Object.fromEntries((read.lanes ?? []).map((l) => [l.dstChainId, [l.before, l.after]]))
    expect(counts(short)).toEqual({ 901: [0, 0], 902: [0, 1], 903: [0, 1] })
    expect(reread).toMatchObject({ fromBlock: startBlock, to: short.to, rpc: anvil.rpcUrl })
    expect(counts(reread)).toEqual(counts(short))
    expect(reread.blocks.map((block) => block.block.number)).toEqual([a.block, b.block])
    expect((await observedIds()).sort()).toEqual([a.messageId, b.messageId].sort())
    expect(watcher.cursor()).toEqual(short.to)
    const warned = logged("short eth_getLogs answer; reading the range again")
    expect(warned).toHaveLength(1)
    expect(warned[0].missing).toMatch(/lane 902: nonce 0.*lane 903: nonce 0/)
  })

  it("given its only RPC losing every log, when no re-read proves the range, then the tick ends incomplete with the cursor held, and the range is observed once the RPC recovers", async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const startBlock = Number(await publicClient.getBlockNumber({ cacheTime: 0 })) + 1
    const proxy = await lossy(1)
    const sent = await send(outbox, "lost for now")
    const config = configFor(outbox, startBlock, { confirmations: 0 }, [proxy.url])
    const watcher = await start(config, { autoStart: false })

    const given = await watcher.tick()

    // One read, 6 re-reads of the same range joined with it, then 8 narrowing re-reads, all on the log.
    expect(given).toMatchObject({ kind: "incomplete", from: startBlock, reads: 15 })
    expect(watcher.cursor()).toBeNull()
    expect(await observedIds()).toEqual([])
    const reads = await onBus(TOPICS.watcherReads.name, "OutboxRangeRead")
    expect(reads).toHaveLength(15)
    expect(reads.every((r) => r.event.fromBlock === startBlock && r.event.blocks.length === 0)).toBe(true)
    expect(logged("no read proved the range complete; backing off")).toHaveLength(1)

    proxy.setDropRate(0)
    const recovered = await tickUntilIdle(watcher)

    expect(recovered[0]).toMatchObject({ kind: "advanced", from: startBlock, messages: 1, rereads: 0 })
    expect(await observedIds()).toEqual([sent.messageId])
  })

  it("given an honest RPC, each range costs one eth_getLogs and one eth_call, plus one eth_call for the first read's start", async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const startBlock = Number(await publicClient.getBlockNumber({ cacheTime: 0 })) + 1
    const proxy = await lossy(0)
    for (let i = 0; i < 6; i++) await send(outbox, `m${i}`, 902 + (i % 2))
    const config = configFor(outbox, startBlock, { confirmations: 0 }, [proxy.url])
    const watcher = await start(config, { autoStart: false })

    const results = await tickUntilIdle(watcher)

    const ranges = results.filter((r) => r.kind === "advanced").length
    expect(ranges).toBeGreaterThan(1)
    const calls = proxy.stats().calls
    expect(calls.eth_getLogs).toBe(ranges)
    expect(calls.eth_call).toBe(ranges + 1)
    expect(await observedIds()).toHaveLength(6)
  })
})

describe("chain-watcher and the proof-builder's nonce gaps (issue 12)", () => {
  const asWatcher = producerOf("chain-watcher", String(CHAIN_ID))
  const asProofBuilder = producerOf("proof-builder", "proof-builder")
  const by = (
    producer: typeof asWatcher,
    event: Envelope["event"],
    causationId: Envelope["id"] | null = null,
  ) => makeEnvelope(event, { producer, causationId, time: new Date() })
  const gapAt = (outbox: Hex, nonce: number) =>
    new LaneStalled({
      lane: new Lane({
        srcChainId: ChainId.make(CHAIN_ID),
        outbox: toAddress(outbox),
        dstChainId: ChainId.make(902),
      }),
      reason: "nonce-gap",
      treeCount: nonce,
      detail: `waiting for nonce ${nonce}; have ${nonce} contiguous messages and 1 waiting above the gap (nonce ${nonce + 1})`,
    })

  /**
   * Messages 0..3 on the lane 901 → 902, and the log of a past watcher that skipped nonce 2: its cursor past
   * their blocks, and MessageObserved for nonces 0, 1 and 3 only.
   */
  const pastWatcherSkipped2 = async () => {
    const outbox = await deployOutbox({ walletClient, publicClient })
    const startBlock = Number(await publicClient.getBlockNumber({ cacheTime: 0 })) + 1
    const sent: Array<Awaited<ReturnType<typeof send>>> = []
    for (let i = 0; i < 4; i++) sent.push(await send(outbox, `gap ${i}`))
    const head = await publicClient.getBlock({ blockTag: "latest" })
    const cursor = new BlockRef({ number: Number(head.number), hash: Bytes32.make(head.hash.toLowerCase()) })
    const observed = [0, 1, 3].map((nonce) => by(asWatcher, sent[nonce]!.observed))
    await publishEvents(bus, [
      ...observed,
      by(asWatcher, new WatcherCursor({ chainId: ChainId.make(CHAIN_ID), block: cursor })),
    ])
    return { outbox, startBlock, sent, cursor }
  }

  it("given a past watcher that skipped nonce 2 and the proof-builder stalled on it, when the watcher ticks, then it re-reads nonce 2 alone and observes it with the id the Outbox emitted; a second tick within 30 s reads nothing", async () => {
    // given
    const { outbox, startBlock, sent, cursor } = await pastWatcherSkipped2()
    const stall = by(asProofBuilder, gapAt(outbox, 2))
    await publishEvents(bus, [
      stall,
      // a stall no proof-builder wrote (anyone may write the topic on a bus that does not authenticate)
      by(producerOf("submitter", "902"), gapAt(outbox, 0)),
      // a nonce the watcher has not read yet: the range reads will observe it
      by(asProofBuilder, gapAt(outbox, 4)),
    ])
    const config = configFor(outbox, startBlock, { confirmations: 0 })
    const watcher = await start(config, { autoStart: false })
    expect(watcher.cursor()).toEqual(cursor)

    // when
    const result = await watcher.tick()

    // then it is idle at its cursor, and observed nonce 2 from a read of it alone
    expect(result.kind, JSON.stringify(result)).toBe("idle")
    const observed = await onBus(TOPICS.messagesObserved.name, "MessageObserved")
    const mended = observed.filter((e) => e.producer.service === "chain-watcher" && e.causationId !== null)
    expect(mended.map((e) => e.event.messageId)).toEqual([sent[2]!.messageId])
    expect(mended[0]!.event).toEqual(sent[2]!.observed)
    const reads = await onBus(TOPICS.watcherReads.name, "OutboxNonceRead")
    expect(reads).toHaveLength(1)
    expect(reads[0]!.causationId).toBe(stall.id)
    expect(mended[0]!.causationId).toBe(reads[0]!.id)
    expect(reads[0]!.event).toMatchObject({
      chainId: CHAIN_ID,
      outbox: outbox.toLowerCase(),
      dstChainId: 902,
      nonce: 2,
      count: 4,
      cursor,
      fromBlock: startBlock,
    })
    expect(reads[0]!.event.found?.block.number).toBe(sent[2]!.block)
    expect(await onBus(TOPICS.watcherReads.name, "OutboxRangeRead")).toEqual([])
    expect(watcher.cursor()).toEqual(cursor)
    expect(logged("re-reading a message the proof-builder waits for")).toMatchObject([
      { lane: "901-902", nonce: 2 },
    ])

    // when the proof-builder reports the same gap again (a flood), and the watcher ticks within 30 s
    await publishEvents(bus, [by(asProofBuilder, gapAt(outbox, 2)), by(asProofBuilder, gapAt(outbox, 2))])
    await watcher.tick()

    // then it made no second read
    expect(await onBus(TOPICS.watcherReads.name, "OutboxNonceRead")).toHaveLength(1)
    expect(await onBus(TOPICS.messagesObserved.name, "MessageObserved")).toHaveLength(4)
  })

  it("given two RPCs, the first losing every log, when the watcher re-reads a gap's nonce, then the read that found nothing is on the log and observes nothing, and the next, once the interval passed, reads it from the second RPC", async () => {
    // given
    const proxy = await startLossyRpc({ upstream: anvil.rpcUrl, dropRate: 1 })
    try {
      const { outbox, startBlock, sent } = await pastWatcherSkipped2()
      const stall = by(asProofBuilder, gapAt(outbox, 2))
      await publishEvents(bus, [stall])
      const config = configFor(outbox, startBlock, { confirmations: 0 }, [proxy.url, anvil.rpcUrl])
      const watcher = await start(config, { autoStart: false, nonceRereadEveryMs: 200 })

      // when
      await watcher.tick()
      await watcher.tick()

      // then one read, from the first RPC, found nothing, and it was not read again within the interval
      const first = await onBus(TOPICS.watcherReads.name, "OutboxNonceRead")
      expect(first.map((r) => [r.event.rpc, r.event.found])).toEqual([[proxy.url, null]])
      expect(await onBus(TOPICS.messagesObserved.name, "MessageObserved")).toHaveLength(3)
      expect(
        logged("a re-read found no message the proof-builder waits for; reading it again later"),
      ).toMatchObject([{ lane: "901-902", nonce: 2, count: 4 }])

      // when the interval passed
      await new Promise((resolve) => setTimeout(resolve, 250))
      await watcher.tick()

      // then the second read, from the second RPC, observed it
      const reads = await onBus(TOPICS.watcherReads.name, "OutboxNonceRead")
      expect(reads.map((r) => r.event.rpc)).toEqual([proxy.url, anvil.rpcUrl])
      expect(reads.every((r) => r.causationId === stall.id)).toBe(true)
      const observed = await onBus(TOPICS.messagesObserved.name, "MessageObserved")
      expect(observed.at(-1)!.event.messageId).toBe(sent[2]!.messageId)
      expect(observed.at(-1)!.causationId).toBe(reads[1]!.id)
    } finally {
      await proxy.close()
    }
  })

  it("given a past watcher that skipped nonce 2, when the proof-builder and the watcher run, then the proof-builder stalls on the gap, the watcher re-reads it, and the lane is proposed past it with the Outbox's root", async () => {
    // given
    const { outbox, startBlock } = await pastWatcherSkipped2()
    const config = configFor(outbox, startBlock, { confirmations: 0 })
    const outputs: Envelope[] = []
    const proofBuilder = await startProofBuilder({
      bus,
      config,
      logger: jsonLogger({ write: () => undefined }, "error"),
      onOutput: (e) => outputs.push(e),
    })
    try {
      const proposed = () =>
        outputs
          .filter((e) => e.type === "CheckpointProposed")
          .map((e) => (e.event as CheckpointProposed).checkpoint)
      await waitFor(
        "the proof-builder stalled on nonce 2",
        () =>
          outputs.some(
            (e) =>
              e.event._tag === "LaneStalled" && e.event.reason === "nonce-gap" && e.event.treeCount === 2,
          ),
        { timeoutMs: 30_000, detail: () => outputs.map((e) => e.type).join(",") },
      )
      expect(proposed().map((c) => c.count)).toEqual([1, 2])

      // when
      const watcher = await start(config, { autoStart: false })
      await watcher.tick()

      // then
      await waitFor("a checkpoint of the lane's 4 messages", () => proposed().some((c) => c.count === 4), {
        timeoutMs: 30_000,
        detail: () =>
          proposed()
            .map((c) => c.count)
            .join(","),
      })
      const root = await publicClient.readContract({
        address: outbox,
        abi: outboxAbi,
        functionName: "root",
        args: [902n],
      })
      expect(proposed().at(-1)!.root).toBe(root)
    } finally {
      await proofBuilder.stop()
    }
  })
})
