/**
 * What `chorus trace` and `chorus messages` say an undelivered message waits
 * on (issue 12, parts 4 and 7): the stake its checkpoint lacks against the
 * stake required, and who has not signed; a service that cannot reach its
 * RPC for the message's chain, until it recovers; and a failed delivery's
 * revert in words, cut short or quoted in a reason.
 */
import { encodeErrorResult, parseAbi } from "viem"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  Address,
  AttestationRefused,
  AttestationSigned,
  BlockRef,
  Bytes32,
  ChainId,
  ChainReadFailed,
  ChainReadRecovered,
  CheckpointProposed,
  type ChorusEvent,
  DeliveryConfirmed,
  type Envelope,
  Hex,
  IsoTime,
  MessageOutcome,
  makeEnvelope,
  OperatorSetRead,
  OperatorWeight,
  SignatureVerdict,
  toU256,
  U256,
  WatcherStalled,
} from "../../schemas/index.ts"
import { makeTestLane } from "../lifecycle/testing/lane.ts"
import { producerOf } from "../runtime/index.ts"
import { indexEvent } from "./index-event.ts"
import { AuditStore } from "./index-store.ts"
import { listMessages } from "./list-messages.ts"
import { traceMessage } from "./trace-message.ts"

const lane = makeTestLane(4)
const T = Date.parse("2026-01-01T00:00:00.000Z")
const HOUR = 3_600_000
const operators = [1, 2, 3, 4].map((n) => Address.make(`0x${String(n).padStart(40, "0")}`))
const weights = [4n, 2n, 3n, 1n]
const collector = producerOf("attestation-collector", "attestation-collector")
const operatorProducer = (i: number) => producerOf("operator", operators[i]!)
const block = new BlockRef({ number: 7, hash: Bytes32.make(`0x${"ab".repeat(32)}`) })
const RPC = "http://***:***@rpc.example.com/v2/***"
const SINCE = IsoTime.make(new Date(T + 10_000).toISOString())

let store: AuditStore
let offset: number
const index = (envelope: Envelope, at: number, topic = "chorus.some.topic") =>
  indexEvent(store, envelope, {
    topic,
    partition: 0,
    offset: offset++,
    eventId: envelope.id,
    type: envelope.type,
    at,
  })
const by = (producer: ReturnType<typeof producerOf>, event: ChorusEvent, ms: number) =>
  makeEnvelope(event, { producer, causationId: null, time: new Date(T + ms) })
const trace = (nonce: number, now = T + HOUR) =>
  traceMessage(store, lane.ids[nonce]!, { now, stuckAfterMs: 120_000 })!
const listed = (nonce: number, now = T + HOUR) =>
  listMessages(store, { status: "all", now, stuckAfterMs: 120_000, limit: 0 }).rows.find(
    (row) => row.id === lane.ids[nonce],
  )!

beforeEach(() => {
  store = AuditStore.open(":memory:")
  offset = 0
  for (let nonce = 0; nonce < 4; nonce++) index(lane.observed(nonce), T)
})
afterEach(() => store.close())

/** Chain 902's set: four operators, weights 4, 2, 3, 1 (10 in all), threshold 66.67%: 7 required. */
const operatorSet = (producer = collector) =>
  by(
    producer,
    new OperatorSetRead({
      lane: lane.lane,
      inbox: Address.make(`0x${"ee".repeat(20)}`),
      epoch: 1,
      block,
      operators: operators.map((address, i) => new OperatorWeight({ address, weight: toU256(weights[i]!) })),
      thresholdBps: 6667,
    }),
    500,
  )

const checkpoint = lane.checkpoint(4)
/** Checkpoint #4 proposed by the proof-builder, a second after the observations. */
const proposeFour = () =>
  index(
    by(
      producerOf("proof-builder", "proof-builder"),
      new CheckpointProposed({ checkpoint, previousCount: 0, block }),
      1000,
    ),
    T + 1000,
  )
const signedBy = (i: number, ms: number) => [
  by(
    operatorProducer(i),
    new AttestationSigned({
      checkpoint,
      epoch: 1,
      digest: Bytes32.make(`0x${"11".repeat(32)}`),
      operator: operators[i]!,
      signature: Hex.make("0x1234"),
    }),
    ms,
  ),
  by(
    collector,
    new SignatureVerdict({
      checkpoint,
      digest: Bytes32.make(`0x${"11".repeat(32)}`),
      operator: operators[i]!,
      signer: operators[i]!,
      signature: Hex.make("0x1234"),
      result: "accepted",
      weight: toU256(weights[i]!),
      epoch: 1,
      reason: "counted",
    }),
    ms + 1,
  ),
]

describe("a checkpoint below its destination's stake threshold", () => {
  beforeEach(() => {
    // given checkpoint #4 proposed, signed by operators 1 and 2 (6 of the 7 required), refused by operator 3
    proposeFour()
    for (const e of [...signedBy(0, 2000), ...signedBy(1, 3000)]) index(e, Date.parse(e.time))
    index(
      by(
        operatorProducer(2),
        new AttestationRefused({
          checkpoint,
          operator: operators[2]!,
          reason: "rpc-invalid",
          detail: "its own RPC for chain 777 answered eth_call with what does not decode",
        }),
        4000,
      ),
      T + 4000,
    )
  })

  it("given the collector's read of the set on the log, when traced, then it names the stake required against the stake signed, and who has not signed with their weights", () => {
    index(operatorSet(), T + 500, "chorus.lane.reads")
    const waiting = trace(1).waiting[0]!
    expect(waiting).toContain("signatures below the stake threshold")
    expect(waiting).toContain(
      "has 6 of the 7 stake required on chain 902 (threshold 66.67% of 10, epoch 1): 1 more needed",
    )
    expect(waiting).toContain(
      `not signed by ${operators[2]} (weight 3, refused: rpc-invalid), ${operators[3]} (weight 1, no answer yet)`,
    )
    // and `messages` lists it so
    expect(listed(1).waitingOn).toEqual([expect.stringContaining("1 more needed")])
  })

  it("given an operator refused because the source chain was halted, when traced, then the gap says so in words", () => {
    index(operatorSet(), T + 500, "chorus.lane.reads")
    index(
      by(
        operatorProducer(3),
        new AttestationRefused({
          checkpoint,
          operator: operators[3]!,
          reason: "chain-halted",
          detail:
            "source chain 777 is halted on the log: its watcher found block 41 rewritten below finality",
        }),
        5000,
      ),
      T + 5000,
    )
    expect(trace(1).waiting[0]).toContain(
      `${operators[3]} (weight 1, refused: chain-halted, its source chain halted on the log when it was proposed; only a checkpoint proposed after \`chorus chain resume\` is signed)`,
    )
  })

  it("given no set the collector read (only one another producer wrote), when traced, then it says the set is not on the log rather than guess", () => {
    index(operatorSet(producerOf("operator", operators[0]!)), T + 500, "chorus.lane.reads")
    expect(trace(1).waiting[0]).toContain("the collector recorded no operator set for chain 902")
  })
})

describe("a service that cannot reach its RPC", () => {
  const stalled = (ms: number) =>
    by(
      operatorProducer(3),
      new ChainReadFailed({
        reader: operators[3]!,
        lane: lane.lane,
        outage: true,
        chainId: ChainId.make(777),
        reason: "rpc-unreachable",
        rpc: RPC,
        what: "reading the finalized head",
        problem: "HTTP request failed.",
        since: SINCE,
        attempts: 9,
      }),
      ms,
    )
  const recovered = (ms: number) =>
    by(
      operatorProducer(3),
      new ChainReadRecovered({
        reader: operators[3]!,
        lane: lane.lane,
        chainId: ChainId.make(777),
        reason: "rpc-unreachable",
        rpc: RPC,
        since: SINCE,
        attempts: 20,
      }),
      ms,
    )
  beforeEach(proposeFour)

  it("given an operator's RPC for the source chain stalled, when traced and listed, then both say it cannot reach its RPC, naming it and since when", () => {
    index(stalled(70_000), T + 70_000, "chorus.lane.reads")
    const expected = `operator ${operators[3]} cannot reach its RPC for chain 777 (${RPC}) since ${SINCE}`
    expect(trace(2).waiting.some((w) => w.startsWith(expected))).toBe(true)
    expect(trace(2).steps.map((s) => s.stage)).toContain("rpc-stalled")
    expect(listed(2).waitingOn.some((w) => w.startsWith(expected))).toBe(true)
  })

  it("given it recovered (its recovery indexed first or last), when traced, then it waits on it no more, and the timeline keeps both", () => {
    for (const order of [
      [stalled(70_000), recovered(90_000)],
      [recovered(90_000), stalled(70_000)],
    ]) {
      store.close()
      store = AuditStore.open(":memory:")
      offset = 0
      for (let nonce = 0; nonce < 4; nonce++) index(lane.observed(nonce), T)
      for (const e of order) index(e, Date.parse(e.time), "chorus.lane.reads")
      expect(trace(2).waiting.filter((w) => w.includes("cannot reach"))).toEqual([])
      expect(trace(2).steps.map((s) => s.stage)).toEqual(
        expect.arrayContaining(["rpc-stalled", "rpc-recovered"]),
      )
      expect(listed(2).waitingOn.filter((w) => w.includes("cannot reach"))).toEqual([])
    }
  })

  it("given the watcher of the source chain stalled, then an undelivered message not yet proposed waits on it; one of another chain does not", () => {
    const watcher = (chainId: number) =>
      by(
        producerOf("chain-watcher", String(chainId)),
        new WatcherStalled({
          chainId: ChainId.make(chainId),
          reason: "rpc-invalid",
          rpc: RPC,
          what: "eth_getBlockByNumber",
          problem: "a block must be an object or null",
          since: SINCE,
          attempts: 4,
        }),
        70_000,
      )
    const onWatcher = () => listed(0).waitingOn.filter((w) => w.includes("chain-watcher"))
    index(watcher(901), T + 70_000, "chorus.chain.halts")
    expect(onWatcher()).toEqual([])
    index(watcher(777), T + 70_000, "chorus.chain.halts")
    // Messages 0–3 are proposed: the watcher has nothing left to do for them. A new one would wait.
    expect(onWatcher()).toEqual([])
    store.close()
    store = AuditStore.open(":memory:")
    index(lane.observed(0), T)
    index(watcher(777), T + 70_000, "chorus.chain.halts")
    expect(trace(0).waiting).toContain(
      `the chain-watcher of chain 777 gets only answers it cannot use from its RPC (${RPC}) since ${SINCE}: eth_getBlockByNumber: a block must be an object or null (4 attempt(s) when recorded)`,
    )
  })
})

describe("a failed delivery's revert in words", () => {
  const standard = parseAbi(["error Error(string)", "error Panic(uint256)"])
  const errorString = encodeErrorResult({ abi: standard, errorName: "Error", args: ["x".repeat(300)] })
  /** Cut after the selector and 40 bytes: before even the reason's length. */
  const cutEarly = errorString.slice(0, 2 + 2 * 44)

  it("given a DeliveryFailed with no transaction whose reason quotes a cut Error(string), then the timeline shows it in words, never raw hex", () => {
    const attested = lane.attested(4)
    index(
      lane.failed(attested.id, {
        action: "deliver",
        ids: [lane.ids[0]!],
        tx: null,
        revertData: null,
        reason: `reverted with unknown error data ${cutEarly}…`,
      }),
      T + 5000,
    )
    const step = trace(0).steps.find((s) => s.stage === "transaction-failed")!
    expect(step.summary).toContain("deliver transaction failed before it was sent")
    expect(step.summary).toContain("Error(…) (truncated")
    expect(step.summary).not.toContain("0x08c379a0")
  })

  it("given a DeliveryFailed whose revert data is empty and whose reason says why, then the reason is shown, not 'reverted without a reason'", () => {
    index(
      lane.failed(lane.attested(4).id, {
        action: "deliver",
        ids: [lane.ids[1]!],
        tx: 3,
        revertData: "0x",
        reason: "ran out of gas (used all 500000)",
      }),
      T + 5000,
    )
    expect(trace(1).steps.find((s) => s.stage === "transaction-failed")!.summary).toContain(
      "ran out of gas (used all 500000)",
    )
  })

  it("given a recipient's revert cut short in a MessageFailed outcome, then it is in words", () => {
    const confirmed = makeEnvelope(
      new DeliveryConfirmed({
        lane: lane.lane,
        action: "deliver",
        transactionHash: lane.hashOf(9),
        block,
        gasUsed: U256.make("100000"),
        outcomes: [
          new MessageOutcome({ messageId: lane.ids[2]!, result: "failed", reason: Hex.make(cutEarly) }),
        ],
      }),
      { producer: producerOf("submitter", "902"), causationId: null, time: new Date(T + 6000) },
    )
    index(confirmed, T + 6000)
    const failed = trace(2).steps.find((s) => s.stage === "failed")!
    expect(failed.summary).toContain("Error(…) (truncated")
    expect(failed.summary).not.toContain("0x08c379a0")
  })
})
