// A replay in threads (`ReplayWorkers`) must write what a replay in one thread writes: the same shadow records,
// partition by partition in the same order, and the same manifest. The log: the proof-builder's runtime over
// five lanes (so several partitions and recorded reads), a redelivered observation, undecodable records on the
// input and the reads topics, and an observation copied onto two other partitions (one before its own, one
// after): a replay in one thread folds an instance's partitions in order with one map of reads, so the first
// partition to fold an input takes its reads and the others fold it without.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Hex } from "viem"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/index.ts"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import type { BusPort, BusRecord } from "../../bus/port.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  type Envelope,
  MessageId,
  MessageObserved,
  makeEnvelope,
  OutboxLaneRead,
  TxHash,
} from "../../schemas/index.ts"
import { testMessage } from "../../test/fixtures/message.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { type ChorusConfig, decodeConfig } from "../config/index.ts"
import { PROOF_BUILDER_READER, proofBuilderCoreFor } from "../proof-builder/index.ts"
import { createMerkleTree, getRoot } from "../proof-builder/merkle/index.ts"
import { groupFor } from "../registry.ts"
import { eraseCore, messageIdOf, producerOf, quietLogger, startLaneService } from "../runtime/index.ts"
import type { ReplayManifest } from "./manifest.ts"
import { ReplayRefusedError, replay } from "./replay.ts"
import { replayTargets } from "./targets.ts"
import type { ReplayBound } from "./window.ts"
import { ReplayWorkers } from "./workers.ts"

const OUTBOX = Address.make("0x00000000000000000000000000000000000a11ce")
const T0 = Date.parse("2026-01-01T00:00:00.000Z")
const hashOf = (n: number) => Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`)
const LANES: ReadonlyArray<readonly [number, number]> = [
  [901, 902],
  [901, 903],
  [902, 901],
  [902, 903],
  [903, 901],
]

const config: ChorusConfig = decodeConfig({
  network: { registryChainId: 901, registry: "0x00000000000000000000000000000000000000aa" },
  chains: [901, 902, 903].map((chainId) => ({
    chainId,
    rpcUrls: ["http://127.0.0.1:1"],
    outbox: OUTBOX,
    inbox: "0x00000000000000000000000000000000000000bb",
  })),
  proofBuilder: { chunkSize: 2 },
})

const sent: MessageObserved[] = []
let sequence = 0
const send = (src: number, dst: number, nonce: number, block: number): Envelope => {
  const message = testMessage({ nonce, body: `m${src}-${dst}-${nonce}`, srcChainId: src, dstChainId: dst })
  const observed = new MessageObserved({
    message,
    messageId: MessageId.make(messageIdOf(message)),
    outbox: OUTBOX,
    block: new BlockRef({ number: block, hash: hashOf(block) }),
    blockTimestamp: 1_700_000_000 + block,
    transactionHash: TxHash.make(hashOf(10_000 + src * 1000 + dst * 10 + nonce)),
    logIndex: 0,
  })
  sent.push(observed)
  return makeEnvelope(observed, {
    producer: producerOf("chain-watcher", String(src)),
    causationId: null,
    time: new Date(T0 + ++sequence * 1000),
  })
}

/** The fake source chain: a lane's root and count at a block, from what was sent on it by then. */
const outboxRead = (src: number, dst: number, block: BlockRef) => {
  const held = sent
    .filter(
      (m) => m.message.srcChainId === src && m.message.dstChainId === dst && m.block.number <= block.number,
    )
    .sort((a, b) => a.message.nonce - b.message.nonce)
    .map((m) => m.messageId as Hex)
  return new OutboxLaneRead({
    reader: PROOF_BUILDER_READER,
    srcChainId: ChainId.make(src),
    outbox: OUTBOX,
    dstChainId: ChainId.make(dst),
    block,
    finalized: new BlockRef({ number: block.number + 2, hash: hashOf(block.number + 2) }),
    root: Bytes32.make(getRoot(createMerkleTree(held))),
    count: held.length,
  })
}

const readAll = async (bus: BusPort, topic: string): Promise<BusRecord[][]> => {
  const marks = await bus.watermarks(topic)
  const out: BusRecord[][] = []
  for (const mark of marks) {
    const records: BusRecord[] = []
    for await (const record of bus.read({ topic, partitions: [mark.partition], from: "earliest" }))
      records.push(record)
    out.push(records)
  }
  return out
}

/** A shadow as what can be compared: per partition, each record's key, headers and value. */
const shadowOf = async (bus: BusPort, suffix: string, topic: string) =>
  (await readAll(bus, `shadow.${suffix}.${topic}`)).map((records) =>
    records.map((r) => ({ key: r.key, headers: r.headers, value: Buffer.from(r.value).toString() })),
  )

/** The manifest without what names the replay itself. */
const comparable = (manifest: ReplayManifest) => ({
  ...manifest,
  suffix: undefined,
  createdAt: undefined,
  shadows: manifest.shadows.map((s) => ({ ...s, shadowTopic: undefined })),
})

describe("a replay in threads", () => {
  let dir: string
  let bus: BusPort
  let workers: ReplayWorkers

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-replay-workers-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(ALL_TOPICS)
    const core = proofBuilderCoreFor(config)
    const builder = await startLaneService({
      bus,
      service: "proof-builder",
      instance: "proof-builder",
      groupId: groupFor("proof-builder"),
      inputs: [TOPICS.messagesObserved.name],
      core,
      observe: async (state, input) => {
        const plan = core.planRead(state, input)
        return plan.kind === "read"
          ? [outboxRead(plan.lane.srcChainId, plan.lane.dstChainId, plan.block)]
          : []
      },
      logger: quietLogger(),
    })
    const inputs: Envelope[] = []
    for (let round = 0; round < 3; round++) {
      for (const [i, [src, dst]] of LANES.entries()) {
        for (let k = 0; k < 2; k++) inputs.push(send(src, dst, round * 2 + k, 10 + round * 3 + (i % 2)))
      }
    }
    // The watcher read a range again and republished one message: the same event, the same id.
    inputs.push(inputs[3]!)
    for (const envelope of inputs) await publishEvents(bus, [envelope])
    await waitFor(
      "the proof-builder to handle every input",
      async () => {
        const committed = await bus.committedOffsets(groupFor("proof-builder"), TOPICS.messagesObserved.name)
        const marks = await bus.watermarks(TOPICS.messagesObserved.name)
        return marks.every(
          (m) => (committed.find((c) => c.partition === m.partition)?.offset ?? 0) === m.high,
        )
      },
      { timeoutMs: 20_000 },
    )
    await builder.stop()

    // An observation with reads recorded for it, copied onto the partitions before and after its own.
    const reads: string[] = []
    for await (const read of readEvents(bus, { topic: TOPICS.laneReads.name, from: "earliest" }))
      if (read.ok && read.envelope.causationId !== null) reads.push(read.envelope.causationId)
    const observed = (await readAll(bus, TOPICS.messagesObserved.name)).flat()
    const partitions = await bus.partitions(TOPICS.messagesObserved.name)
    const withReads = observed.find(
      (r) => reads.includes(r.headers["chorus-id"]!) && r.partition > 0 && r.partition < partitions - 1,
    )!
    for (const partition of [withReads.partition - 1, withReads.partition + 1]) {
      const { key, value, headers } = withReads
      await bus.publish([{ topic: TOPICS.messagesObserved.name, key, value, headers, partition }])
    }
    // Records that are no event, on an input partition and on the reads.
    const garbage = new TextEncoder().encode("not an event")
    await bus.publish([
      { topic: TOPICS.messagesObserved.name, key: "x", value: garbage, partition: withReads.partition },
      { topic: TOPICS.laneReads.name, key: "y", value: garbage, partition: 2 },
    ])
    workers = await ReplayWorkers.start({ config, authenticate: false, threads: 2 })
  }, 60_000)

  afterAll(async () => {
    await workers?.close()
    await bus?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const both = async (name: string, from: ReplayBound, to?: ReplayBound) => {
    const targets = await replayTargets("proof-builder", config)
    const window = { from, ...(to === undefined ? {} : { to }) }
    const here = await replay({ bus, targets, ...window, suffix: `${name}-here` })
    const threads = await replay({ bus, targets, ...window, suffix: `${name}-threads`, workers })
    return { here, threads }
  }

  it("given the whole log, when replayed in threads, then every shadow record and the manifest are the same as in one thread", async () => {
    const { here, threads } = await both("whole", { kind: "offset", offset: 0 })
    expect(here.counts.undecodable).toBe(2)
    expect(here.counts.duplicates).toBe(1)
    expect(here.counts.outputs).toBeGreaterThan(sent.length)
    expect(comparable(threads)).toEqual(comparable(here))
    for (const topic of [TOPICS.checkpointsProposed.name, TOPICS.messagesProven.name]) {
      const expected = await shadowOf(bus, "whole-here", topic)
      expect(expected.flat().length, topic).toBeGreaterThan(0)
      expect(await shadowOf(bus, "whole-threads", topic), topic).toEqual(expected)
    }
  })

  it("given a window by offsets, when replayed in threads, then the shadows and the manifest are the same", async () => {
    const { here, threads } = await both(
      "middle",
      { kind: "offset", offset: 2 },
      { kind: "offset", offset: 5 },
    )
    expect(here.counts.before).toBeGreaterThan(0)
    expect(comparable(threads)).toEqual(comparable(here))
    for (const topic of [TOPICS.checkpointsProposed.name, TOPICS.messagesProven.name]) {
      expect(await shadowOf(bus, "middle-threads", topic), topic).toEqual(
        await shadowOf(bus, "middle-here", topic),
      )
    }
  })

  it("given a core not built from the workers' config, when replayed in threads, then it is refused", async () => {
    const [target] = await replayTargets("proof-builder", config)
    const other = { ...target!, core: eraseCore(proofBuilderCoreFor(config, { chunkSize: 1 })) }
    await expect(
      replay({ bus, targets: [other], from: { kind: "offset", offset: 0 }, suffix: "foreign", workers }),
    ).rejects.toBeInstanceOf(ReplayRefusedError)
  })

  it("given a bus that authenticates and workers that do not, when replayed, then it is refused", async () => {
    const targets = await replayTargets("proof-builder", config)
    // The refusal comes before the bus is used: only what it says about itself matters.
    const strict = { kind: "embedded", authenticate: () => ({ ok: false }) } as unknown as BusPort
    await expect(
      replay({ bus: strict, targets, from: { kind: "offset", offset: 0 }, suffix: "strict", workers }),
    ).rejects.toBeInstanceOf(ReplayRefusedError)
  })
})
