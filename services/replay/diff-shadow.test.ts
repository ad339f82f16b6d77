// The chain-watcher's production run is played by hand: its reads on chorus.watcher.reads, and what its core
// made of them on the output topics. Then a replay of that log is diffed: restricted to the replayed window,
// tolerant of a compacted cursor, naming messages through causes and checkpoints, and refusing what cannot be
// compared.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { keccak256, stringToHex } from "viem"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents } from "../../bus/events/index.ts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import type { BusPort } from "../../bus/port.ts"
import {
  Address,
  AttestationSigned,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointProposed,
  type Envelope,
  Hex,
  MessageId,
  MessageObserved,
  makeEnvelope,
  OutboxBlock,
  OutboxLog,
  OutboxRangeRead,
  TxHash,
} from "../../schemas/index.ts"
import { testMessage } from "../../test/fixtures/message.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { makeWatcherCore } from "../chain-watcher/index.ts"
import { eraseCore, messageIdOf, producerOf, stampOutputs } from "../runtime/index.ts"
import { makeMessageResolver } from "./affected-messages.ts"
import { DiffRefusedError, diffShadowTopic } from "./diff-shadow.ts"
import { ManifestNotFoundError } from "./manifest.ts"
import { replay } from "./replay.ts"
import type { ReplayTarget } from "./targets.ts"

const OUTBOX = Address.make(`0x${"0a".repeat(20)}`)
const watcher = producerOf("chain-watcher", "901")
const hashOf = (label: string) => Bytes32.make(keccak256(stringToHex(label)))
const block = (n: number) => new BlockRef({ number: n, hash: hashOf(`b-${n}`) })
const T0 = 1_700_000_000_000

const target: ReplayTarget = {
  service: "chain-watcher",
  instance: "901",
  inputs: [TOPICS.watcherReads.name],
  partitions: (count) => [partitionForKey("901", count)],
  readsRecorded: false,
  outputs: [TOPICS.messagesObserved.name, TOPICS.watcherCursors.name, TOPICS.chainHalts.name],
  core: eraseCore(makeWatcherCore(901)),
  resigned: {},
  unreplayed: null,
}

/** Reads of blocks [0, 10), [10, 20), [20, 30): each with one message of lane 901 → 902 (nonces 0, 1, 2). */
const reads = [0, 1, 2].map((i) =>
  makeEnvelope(
    new OutboxRangeRead({
      chainId: ChainId.make(901),
      outbox: OUTBOX,
      cursorCheck: i === 0 ? null : block(i * 10 - 1),
      fromBlock: i * 10,
      to: block(i * 10 + 9),
      blocks: [
        new OutboxBlock({
          block: block(i * 10 + 5),
          timestamp: 1_700_000_000 + i,
          logs: [
            new OutboxLog({
              transactionHash: TxHash.make(hashOf(`tx-${i}`)),
              logIndex: 0,
              message: testMessage({ nonce: i, body: `m${i}` }),
            }),
          ],
        }),
      ],
    }),
    { producer: watcher, causationId: null, time: new Date(T0 + i * 1000) },
  ),
)
const messageIds = [0, 1, 2].map((i) => messageIdOf(testMessage({ nonce: i, body: `m${i}` })))

describe("diffShadowTopic", () => {
  let dir: string
  let bus: BusPort
  let outputs: Envelope[]

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-diff-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(ALL_TOPICS)
    const core = makeWatcherCore(901)
    let state = core.initial
    outputs = []
    for (const read of reads) {
      await publishEvents(bus, [read])
      const decision = core.decide(state, read)
      state = decision.state
      outputs.push(...stampOutputs(watcher, read, decision.outputs))
    }
    // Production as Kafka leaves it once the cursors topic is compacted: the first cursor is gone.
    const firstCursor = outputs.find((o) => o.type === "WatcherCursor")!
    await publishEvents(
      bus,
      outputs.filter((o) => o !== firstCursor),
    )
    // Another watcher's cursor on the same topic, out of scope of a replay of chain 901.
    await publishEvents(bus, [
      makeEnvelope(
        new OutboxRangeRead({
          chainId: ChainId.make(902),
          outbox: OUTBOX,
          cursorCheck: null,
          fromBlock: 0,
          to: block(3),
          blocks: [],
        }),
        { producer: producerOf("chain-watcher", "902"), causationId: null, time: new Date(T0) },
      ),
    ])
  })
  afterAll(async () => {
    await bus.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("given a replay of a window, when diffed, then only outputs of the window's inputs count, and a compacted cursor is no difference", async () => {
    const manifest = await replay({
      bus,
      targets: [target],
      from: { kind: "offset", offset: 0 },
      suffix: "watch",
    })
    expect(manifest.counts.replayed).toBe(3)
    const cursors = await diffShadowTopic(bus, {
      productionTopic: TOPICS.watcherCursors.name,
      shadowTopic: "shadow.watch.chorus.watcher.cursors",
    })
    expect(cursors.diff.differences).toEqual([])
    expect(cursors.scope.compactedAway).toBe(1)
    expect(cursors.diff.counts).toMatchObject({ production: 2, shadow: 3, identical: 2, extra: 0 })
    const observed = await diffShadowTopic(bus, {
      productionTopic: TOPICS.messagesObserved.name,
      shadowTopic: "shadow.watch.chorus.messages.observed",
    })
    expect(observed.diff.differences).toEqual([])
    expect(observed.diff.counts.identical).toBe(3)
  })

  it("given a window after the first read, when diffed, then production's earlier outputs are out of scope", async () => {
    await replay({
      bus,
      targets: [target],
      from: { kind: "offset", offset: 1 },
      suffix: "watch-late",
    })
    const observed = await diffShadowTopic(bus, {
      productionTopic: TOPICS.messagesObserved.name,
      shadowTopic: "shadow.watch-late.chorus.messages.observed",
    })
    expect(observed.diff.differences).toEqual([])
    expect(observed.diff.counts.identical).toBe(2)
    expect(observed.scope).toMatchObject({ inputs: 2, productionOutOfScope: 1 })
  })

  it("given outputs the replay does not make again, when diffed, then they are reported with the reason, not missing", async () => {
    // A core that makes no MessageObserved again (as the submitter makes no operator-set record again)
    const core = target.core
    const silent: ReplayTarget = {
      ...target,
      core: {
        initial: core.initial,
        decide: (state, input, reads) => {
          const decision = core.decide(state, input, reads)
          return { ...decision, outputs: decision.outputs.filter((e) => e._tag !== "MessageObserved") }
        },
      },
    }
    const reason = "its chain answers are not recorded as reads"
    for (const [suffix, unreplayed] of [
      ["undeclared", null],
      ["declared", { types: ["MessageObserved"], reason }],
    ] as const) {
      await replay({ bus, targets: [{ ...silent, unreplayed }], from: { kind: "offset", offset: 0 }, suffix })
    }
    const undeclared = await diffShadowTopic(bus, {
      productionTopic: TOPICS.messagesObserved.name,
      shadowTopic: "shadow.undeclared.chorus.messages.observed",
    })
    expect(undeclared.diff.differences.map((d) => d.kind)).toEqual(["missing", "missing", "missing"])
    const declared = await diffShadowTopic(bus, {
      productionTopic: TOPICS.messagesObserved.name,
      shadowTopic: "shadow.declared.chorus.messages.observed",
    })
    expect(declared.diff.differences).toEqual([])
    expect(declared.scope.productionNotReplayed).toEqual({ count: 3, reason })
  })

  it("refuses topics that are not a production topic and its shadow, or a shadow without a manifest", async () => {
    const refused = (productionTopic: string, shadowTopic: string) =>
      diffShadowTopic(bus, { productionTopic, shadowTopic })
    await expect(refused("chorus.typo", "shadow.watch.chorus.typo")).rejects.toThrow(DiffRefusedError)
    await expect(refused(TOPICS.messagesObserved.name, TOPICS.messagesObserved.name)).rejects.toThrow(
      /is not a shadow topic/,
    )
    await expect(
      refused(TOPICS.messagesObserved.name, "shadow.watch.chorus.watcher.cursors"),
    ).rejects.toThrow(/shadow of chorus.watcher.cursors, not of chorus.messages.observed/)
    await expect(refused(TOPICS.messagesProven.name, "shadow.watch.chorus.messages.proven")).rejects.toThrow(
      /wrote no shadow.watch.chorus.messages.proven/,
    )
    await expect(
      refused(TOPICS.messagesObserved.name, "shadow.nothing.chorus.messages.observed"),
    ).rejects.toBeInstanceOf(ManifestNotFoundError)
  })
})

describe("makeMessageResolver", () => {
  let dir: string
  let bus: BusPort
  const builder = producerOf("proof-builder", "proof-builder")
  const checkpoint = new Checkpoint({
    srcChainId: ChainId.make(901),
    outbox: OUTBOX,
    dstChainId: ChainId.make(902),
    root: hashOf("root-3"),
    count: 3,
  })
  const observedOf = (nonce: number) =>
    new MessageObserved({
      message: testMessage({ nonce, body: `m${nonce}` }),
      messageId: MessageId.make(messageIds[nonce]!),
      outbox: OUTBOX,
      block: block(5),
      blockTimestamp: 1_700_000_000,
      transactionHash: TxHash.make(hashOf(`tx-${nonce}`)),
      logIndex: 0,
    })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-resolve-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(ALL_TOPICS)
    await publishEvents(
      bus,
      [0, 1, 2].map((n) =>
        makeEnvelope(observedOf(n), { producer: watcher, causationId: reads[n]!.id, time: new Date(T0) }),
      ),
    )
    await publishEvents(bus, [
      makeEnvelope(new CheckpointProposed({ checkpoint, previousCount: 1, block: block(25) }), {
        producer: builder,
        causationId: null,
        time: new Date(T0),
      }),
    ])
  })
  afterAll(async () => {
    await bus.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("given an event about a checkpoint, when resolved, then it names the messages the checkpoint added", async () => {
    const signed = makeEnvelope(
      new AttestationSigned({
        checkpoint,
        epoch: 1,
        digest: hashOf("digest"),
        operator: Address.make(`0x${"0b".repeat(20)}`),
        signature: Hex.make(`0x${"11".repeat(65)}`),
      }),
      { producer: producerOf("operator", "0x0b"), causationId: null, time: new Date(T0) },
    )
    expect(await makeMessageResolver(bus, new Map())(signed)).toEqual([messageIds[1], messageIds[2]])
  })

  it("given an event about no message whose cause carries some, when resolved, then it names the cause's", async () => {
    const [cursor] = stampOutputs(
      watcher,
      reads[0]!,
      makeWatcherCore(901).decide({ cursor: null, halted: false }, reads[0]!).outputs,
    ).filter((o) => o.type === "WatcherCursor")
    const resolve = makeMessageResolver(bus, new Map([[reads[0]!.id, reads[0]!]]))
    expect(await resolve(cursor!)).toEqual([messageIds[0]])
    expect(await makeMessageResolver(bus, new Map())(cursor!)).toEqual([])
  })
})
