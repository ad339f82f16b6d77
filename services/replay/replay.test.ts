// The proof-builder's core runs in the real lane runtime (restarted once, so its state is rebuilt from the
// log) over messages the test publishes as a chain-watcher would, with a fake Outbox behind `observe`. Then
// replays of that log, whole and windowed, must give empty diffs, and a core with another chunk size must not.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Hex } from "viem"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/index.ts"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
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
import { diffShadowTopic, isEmptyDiff } from "./diff-shadow.ts"
import { readManifest } from "./manifest.ts"
import { ReplayRefusedError, replay } from "./replay.ts"
import { replayTargets } from "./targets.ts"
import type { ReplayBound } from "./window.ts"

const OUTBOX = Address.make("0x00000000000000000000000000000000000a11ce")
const T0 = Date.parse("2026-01-01T00:00:00.000Z")
const watcher = producerOf("chain-watcher", "901")
const hashOf = (n: number) => Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`)
const OUTPUTS = [TOPICS.checkpointsProposed.name, TOPICS.messagesProven.name]

const config: ChorusConfig = decodeConfig({
  network: { registryChainId: 901, registry: "0x00000000000000000000000000000000000000aa" },
  chains: [901, 902, 903].map((chainId) => ({
    chainId,
    rpcUrls: ["http://127.0.0.1:1"],
    outbox: OUTBOX,
    inbox: "0x00000000000000000000000000000000000000bb",
  })),
  proofBuilder: { chunkSize: 4 },
})

/** Messages of lanes 901→902 and 901→903; `block` is where the fake chain holds each. */
const sent: MessageObserved[] = []
const send = (dst: number, nonce: number, block: number) => {
  const message = testMessage({ nonce, body: `m${dst}-${nonce}`, dstChainId: dst })
  const observed = new MessageObserved({
    message,
    messageId: MessageId.make(messageIdOf(message)),
    outbox: OUTBOX,
    block: new BlockRef({ number: block, hash: hashOf(block) }),
    blockTimestamp: 1_700_000_000 + block,
    transactionHash: TxHash.make(hashOf(10_000 + dst * 100 + nonce)),
    logIndex: 0,
  })
  sent.push(observed)
  return makeEnvelope(observed, {
    producer: watcher,
    causationId: null,
    time: new Date(T0 + sent.length * 1000),
  })
}

/** The fake source chain: a lane's root and count at a block, from the messages sent in it and before. */
const outboxRead = (srcChainId: number, dstChainId: number, block: BlockRef) => {
  const held = sent
    .filter((m) => m.message.dstChainId === dstChainId && m.block.number <= block.number)
    .sort((a, b) => a.message.nonce - b.message.nonce)
    .map((m) => m.messageId as Hex)
  return new OutboxLaneRead({
    reader: PROOF_BUILDER_READER,
    srcChainId: ChainId.make(srcChainId),
    outbox: OUTBOX,
    dstChainId: ChainId.make(dstChainId),
    block,
    finalized: new BlockRef({ number: block.number + 2, hash: hashOf(block.number + 2) }),
    root: Bytes32.make(getRoot(createMerkleTree(held))),
    count: held.length,
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const records = async (bus: BusPort, topic: string) =>
  (await bus.watermarks(topic)).reduce((n, m) => n + (m.high - m.low), 0)

describe("replay and diff of the proof-builder over a log its runtime wrote", () => {
  let dir: string
  let bus: BusPort
  let middle: number
  const production = new Map<string, number>()

  const startBuilder = () => {
    const core = proofBuilderCoreFor(config)
    return startLaneService({
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
  }
  const caughtUp = async () =>
    waitFor(
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-replay-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(ALL_TOPICS)
    let builder = await startBuilder()
    const first: Envelope[] = [
      send(902, 0, 10),
      send(903, 0, 10),
      send(902, 1, 10),
      send(902, 2, 11),
      send(903, 1, 12),
      send(902, 3, 12),
      send(902, 4, 12),
    ]
    for (const envelope of first) await publishEvents(bus, [envelope])
    await caughtUp()
    // A restart: the new member rebuilds its state from the log before it handles the next input.
    await builder.stop()
    builder = await startBuilder()
    // Windows by time are in log time (when records were written): mark the instant between the two batches.
    await sleep(5)
    middle = Date.now()
    await sleep(5)
    const second = [send(902, 5, 13), send(903, 2, 13), send(902, 6, 14), send(902, 7, 14), send(903, 3, 15)]
    // The watcher re-read a range and republished one message: the same event, the same id.
    for (const envelope of [...second, second[1]!]) await publishEvents(bus, [envelope])
    await caughtUp()
    await builder.stop()
    for (const topic of ALL_TOPICS) production.set(topic.name, await records(bus, topic.name))
  })
  afterAll(async () => {
    await bus?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const replayAndDiff = async (suffix: string, from: ReplayBound, to?: ReplayBound, chunkSize?: number) => {
    const [target] = await replayTargets("proof-builder", config)
    const targets = [
      chunkSize === undefined
        ? target!
        : { ...target!, core: eraseCore(proofBuilderCoreFor(config, { chunkSize })) },
    ]
    const manifest = await replay({ bus, targets, from, ...(to === undefined ? {} : { to }), suffix })
    const reports = []
    for (const topic of OUTPUTS) {
      reports.push(
        await diffShadowTopic(bus, { productionTopic: topic, shadowTopic: `shadow.${suffix}.${topic}` }),
      )
    }
    return { manifest, reports }
  }

  it("production proposed every message, so there is something to replay", async () => {
    expect(production.get(TOPICS.checkpointsProposed.name)).toBeGreaterThanOrEqual(4)
    expect(production.get(TOPICS.messagesProven.name)).toBeGreaterThanOrEqual(sent.length)
  })

  it("given the whole log, when replayed, then every shadow equals production and production is untouched", async () => {
    const { manifest, reports } = await replayAndDiff("whole", { kind: "offset", offset: 0 })
    expect(manifest.counts).toMatchObject({ before: 0, replayed: sent.length, duplicates: 1, undecodable: 0 })
    for (const report of reports) {
      expect(report.diff.differences, report.shadowTopic).toEqual([])
      expect(report.diff.counts.identical).toBe(report.diff.counts.production)
      expect(report.diff.counts.production).toBeGreaterThan(0)
      expect(report.scope.productionOutOfScope).toBe(0)
    }
    for (const topic of ALL_TOPICS)
      expect(await records(bus, topic.name), topic.name).toBe(production.get(topic.name))
    expect(await readManifest(bus, "whole")).toEqual(manifest)
  })

  it("given a window by time after the restart, when replayed, then the state before it is rebuilt and the diff is empty", async () => {
    const { manifest, reports } = await replayAndDiff("by-time", {
      kind: "time",
      time: middle,
      text: "middle",
    })
    expect(manifest.counts.before).toBe(7)
    expect(manifest.counts.replayed).toBe(5)
    for (const report of reports) {
      expect(report.diff.differences, report.shadowTopic).toEqual([])
      expect(report.scope.productionOutOfScope).toBeGreaterThan(0)
    }
    expect(reports.every(isEmptyDiff)).toBe(true)
  })

  it("given a window by offsets in the middle, when replayed, then the diff is empty", async () => {
    const { manifest, reports } = await replayAndDiff(
      "by-offset",
      { kind: "offset", offset: 1 },
      { kind: "offset", offset: 3 },
    )
    expect(manifest.counts.replayed).toBeGreaterThan(0)
    expect(manifest.counts.before).toBeGreaterThan(0)
    for (const report of reports) expect(report.diff.differences, report.shadowTopic).toEqual([])
  })

  it("given a core with another chunk size, when replayed, then the proofs differ and each names its messages", async () => {
    const { reports } = await replayAndDiff("chunk-1", { kind: "offset", offset: 0 }, undefined, 1)
    const [proposed, proven] = reports
    expect(proposed!.diff.differences).toEqual([])
    expect(isEmptyDiff(proven!)).toBe(false)
    const kinds = new Set(proven!.diff.differences.map((d) => d.kind))
    expect(kinds).toEqual(new Set(["changed", "extra"]))
    const changed = proven!.diff.differences.find((d) => d.kind === "changed")!
    if (changed.kind !== "changed") throw new Error("expected a changed proof")
    expect(changed.fields.map((f) => f.path)).toContain("messageIds[1]")
    const ids = new Set(sent.map((m) => m.messageId as string))
    for (const difference of proven!.diff.differences) {
      expect(difference.messages.length).toBeGreaterThan(0)
      for (const id of difference.messages) expect(ids.has(id)).toBe(true)
    }
  })

  it("given a suffix already used, when replayed again, then it is refused", async () => {
    await expect(replayAndDiff("whole", { kind: "offset", offset: 0 })).rejects.toBeInstanceOf(
      ReplayRefusedError,
    )
  })
})
