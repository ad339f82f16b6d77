/**
 * An operator signs nothing of a source chain halted on the log (issue 12,
 * part 3): its observer records the halt it saw (`ChainHaltRead`) instead
 * of reading the chain, its core refuses `chain-halted` from that record
 * alone, naming the chain, the block found rewritten and why, and a replay
 * refuses the same without the halts topic. Once `chorus chain resume`
 * lifts the halt, it reads and signs again, and the log shows the resume it
 * saw.
 */
import { keccak256, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { publishEvents } from "../../bus/events/index.ts"
import type { ChainReader, OutboxLaneRef } from "../../chains/index.ts"
import {
  AttestationRefused,
  AttestationSigned,
  BlockRef,
  ChainHaltRead,
  ChainId,
  type ChorusEvent,
  type Envelope,
  HaltSeen,
  makeEnvelope,
  OutboxLaneRead,
  toAddress,
} from "../../schemas/index.ts"
import { haltedEnvelope, resumedEnvelope } from "../../schemas/testing/chain-halts.ts"
import {
  bytes32,
  inboxEpochReadOf,
  proposalOf,
  TEST_DOMAIN,
  TEST_LANE,
  testCheckpoint,
} from "../../test/fixtures/checkpoint.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { chainHaltsView, foldCore, producerOf, quietLogger } from "../runtime/index.ts"
import { makeOperatorCore } from "./core.ts"
import { makeOutboxObserver } from "./observe-outbox.ts"

const KEY = keccak256(stringToHex("operator-chain-halted-test"))
const ME = toAddress(privateKeyToAccount(KEY).address)
const operatorProducer = producerOf("operator", ME)
const T0 = new Date("2026-01-01T00:00:00.000Z")
const BLOCK = new BlockRef({ number: 40, hash: bytes32("40") })
const chains = [
  { chainId: ChainId.make(901), outbox: TEST_LANE.outbox },
  { chainId: ChainId.make(902), outbox: TEST_LANE.outbox },
]
const core = () => makeOperatorCore({ privateKey: KEY, domain: TEST_DOMAIN, chains, maxBlocksAhead: 64 })
/** The checkpoint proposed at block `n` (the agreeing chain shows it at every block). */
const proposal = (n = 40) =>
  proposalOf(testCheckpoint(), new BlockRef({ number: n, hash: bytes32("40") }), T0)
/** The operator's own Outbox read agreeing with the proposal, its block final. */
const agreeingRead = () =>
  new OutboxLaneRead({
    reader: ME.toLowerCase(),
    srcChainId: ChainId.make(901),
    outbox: TEST_LANE.outbox,
    dstChainId: ChainId.make(902),
    block: BLOCK,
    finalized: new BlockRef({ number: 50, hash: bytes32("50") }),
    root: testCheckpoint().root,
    count: testCheckpoint().count,
  })

/** What the operator's own RPC shows: the proposal's lane, agreeing, its block final; every call counted. */
const agreeingChain = () => {
  let calls = 0
  const reader = {
    chainId: 901,
    finality: { tag: "finalized" },
    finalizedHead: async () => {
      calls++
      return new BlockRef({ number: 50, hash: bytes32("50") })
    },
    latestHead: async () => {
      calls++
      return new BlockRef({ number: 52, hash: bytes32("52") })
    },
    header: async (n: number) => {
      calls++
      return { ref: new BlockRef({ number: n, hash: bytes32("40") }), timestamp: 0 }
    },
    outboxLane: async (_lane: OutboxLaneRef, blockNumber: number) => {
      calls++
      return {
        block: new BlockRef({ number: blockNumber, hash: bytes32("40") }),
        root: testCheckpoint().root,
        count: testCheckpoint().count,
        finalized: new BlockRef({ number: 50, hash: bytes32("50") }),
      }
    },
  } as unknown as ChainReader
  return { reader, calls: () => calls }
}

/** Records `events` as the operator's reads for `input`, as the runtime does. */
const recorded = (input: Envelope, events: ReadonlyArray<ChorusEvent>) =>
  events.map((event) => makeEnvelope(event, { producer: operatorProducer, causationId: input.id, time: T0 }))

const haltRead = (over: { reader?: string; chainId?: number } = {}) =>
  new ChainHaltRead({
    reader: over.reader ?? ME.toLowerCase(),
    lane: TEST_LANE,
    chainId: ChainId.make(over.chainId ?? 901),
    halt: new HaltSeen({
      eventId: haltedEnvelope(901).id,
      blockNumber: 41,
      reason: "block 41 was 0x4141… when read, now 0x4242…: rewritten",
    }),
    resumed: null,
  })

describe("the operator core, given what it saw of its source chain's halt", () => {
  it("given its own read shows the source chain halted, when it decides, then it refuses chain-halted naming the chain, the block and why, whatever its Outbox read shows", () => {
    const input = proposal()
    // An Outbox read that agrees: only the halt stands in the way.
    const { outputs } = foldCore(core(), operatorProducer, [
      { input, reads: recorded(input, [haltRead(), agreeingRead()]) },
    ])
    expect(outputs).toHaveLength(1)
    const refusal = outputs[0]!.event as AttestationRefused
    expect(refusal).toBeInstanceOf(AttestationRefused)
    expect(refusal.reason).toBe("chain-halted")
    expect(refusal.detail).toMatch(
      /^source chain 901 is halted on the log: its watcher found block 41 rewritten below finality \(ChainHalted 0x[0-9a-f]{64}: block 41 was 0x4141… when read, now 0x4242…: rewritten\); it signs nothing of chain 901 until `chorus chain resume 901` lifts the halt/,
    )
  })

  it("given a halt read by another operator, or of another chain, then it counts for nothing", () => {
    const input = proposal()
    const { outputs } = foldCore(core(), operatorProducer, [
      {
        input,
        reads: recorded(input, [
          haltRead({ reader: "0x000000000000000000000000000000000000beef" }),
          haltRead({ chainId: 903 }),
          agreeingRead(),
          inboxEpochReadOf(input, ME),
        ]),
      },
    ])
    expect(outputs.map((o) => o.event._tag)).toEqual(["AttestationSigned"])
  })
})

const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-operator-halts-")

const observerOn = (reader: ChainReader) =>
  makeOutboxObserver({
    operator: ME.toLowerCase(),
    chains,
    readerFor: () => reader,
    finalityWaitMs: 60_000,
    maxBlocksAhead: 64,
    logger: quietLogger({ write: () => true }),
    signal: new AbortController().signal,
    pollIntervalMs: 5,
    rpcFaults: { unreachableAfterMs: 60_000, logEveryMs: 60_000 },
    record: async () => {},
    halts: chainHaltsView(bus(), quietLogger({ write: () => true })),
  })

describe("the operator's observer and core, on a log that halts and resumes its source chain", () => {
  it("given its source chain halted on the log, when a proposal arrives, then it records the halt, reads nothing of the chain, and refuses; after a resume it records the resume once per lane and signs", async () => {
    const chain = agreeingChain()
    const observe = observerOn(chain.reader)
    const operatorCore = core()
    const halt = haltedEnvelope(901, { blockNumber: 41, time: T0 })
    await publishEvents(bus(), [halt])

    // When a proposal of 901 arrives while it is halted
    const first = proposal()
    const seen = await observe(operatorCore.initial, first)
    // Then its only read is the halt, and no RPC call was made
    expect(seen.map((e) => e._tag)).toEqual(["ChainHaltRead"])
    expect(seen[0]).toMatchObject({
      chainId: 901,
      resumed: null,
      halt: { eventId: halt.id, blockNumber: 41 },
    })
    expect(chain.calls()).toBe(0)
    const refused = foldCore(operatorCore, operatorProducer, [{ input: first, reads: recorded(first, seen) }])
    expect(refused.outputs.map((o) => (o.event as AttestationRefused).reason)).toEqual(["chain-halted"])

    // Given the halt is lifted by chorus chain resume
    const resume = resumedEnvelope(halt, {
      block: 38,
      by: "alice@ops",
      time: new Date(T0.getTime() + 60_000),
    })
    await publishEvents(bus(), [resume])
    // When the checkpoint is proposed again, then it reads its chain, with the resume it saw, and signs
    const second = proposal(42)
    const after = await observe(refused.state, second)
    expect(after.map((e) => e._tag)).toEqual(["ChainHaltRead", "OutboxLaneRead"])
    expect(after[0]).toMatchObject({
      halt: { eventId: halt.id },
      resumed: { eventId: resume.id, block: { number: 38 }, by: "alice@ops" },
    })
    expect(chain.calls()).toBeGreaterThan(0)
    const signed = foldCore(
      operatorCore,
      operatorProducer,
      [{ input: second, reads: recorded(second, [...after, inboxEpochReadOf(second, ME)]) }],
      refused.state,
    )
    expect(signed.outputs.map((o) => o.event)).toEqual([expect.any(AttestationSigned)])
    // …and the resume is recorded once per lane, not with every proposal
    const third = await observe(signed.state, proposal(43))
    expect(third.map((e) => e._tag)).toEqual(["OutboxLaneRead"])

    // A replay of the log decides the same from the recorded reads alone: no halts topic, no RPC
    const replayed = foldCore(core(), operatorProducer, [
      { input: first, reads: recorded(first, seen) },
      { input: second, reads: recorded(second, [...after, inboxEpochReadOf(second, ME)]) },
    ])
    expect(replayed.outputs.map((o) => [o.event._tag, o.id])).toEqual(
      [...refused.outputs, ...signed.outputs].map((o) => [o.event._tag, o.id]),
    )
  })
})
