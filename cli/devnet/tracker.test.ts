import { type Hex, stringToHex, type Address as ViemAddress } from "viem"
import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointAttested,
  type DeliveryAction,
  DeliveryConfirmed,
  DeliverySkipped,
  type Envelope,
  Lane,
  LaneStalled,
  MessageId,
  MessageObserved,
  MessageOutcome,
  MessageProven,
  makeEnvelope,
  RootCommitted,
  type SkippedStatus,
  type StallReason,
  TxHash,
  U256,
  Hex as WireHex,
} from "../../schemas/index.ts"
import { computeMessageId } from "../../services/proof-builder/core/index.ts"
import { producerOf } from "../../services/runtime/index.ts"
import { testMessage } from "../../test/fixtures/message.ts"
import { Tracker } from "./tracker.ts"
import type { SentMessage } from "./traffic.ts"

// ---- fixtures: devnet messages on lane 901 -> 902 (one Outbox), and the events the log holds about them ----

const SRC = 901
const DST = 902
const OTHER_DST = 903
const OUTBOX = Address.make("0x00000000000000000000000000000000000a11ce")
const OTHER_OUTBOX = Address.make("0x00000000000000000000000000000000000b0b00")
const RECIPIENT = Address.make("0x000000000000000000000000000000000000cafe")
const T0 = Date.parse("2026-01-01T00:00:00.000Z")

const word = (n: number) => `0x${n.toString(16).padStart(64, "0")}`
const bodyOf = (nonce: number): Hex => stringToHex(`chorus devnet #${nonce}`)

const messageAt = (nonce: number) =>
  testMessage({
    nonce,
    srcChainId: SRC,
    dstChainId: DST,
    recipient: RECIPIENT,
    body: `chorus devnet #${nonce}`,
  })

const idOf = (nonce: number): MessageId => {
  const computed = computeMessageId(messageAt(nonce))
  if (!computed.ok) throw new Error(computed.reason)
  return MessageId.make(computed.id)
}

/** What the traffic generator reports for message `nonce` (its index is its nonce: one lane). */
const sentMessage = (nonce: number, body: Hex = bodyOf(nonce)): SentMessage => ({
  index: nonce,
  srcChainId: SRC,
  dstChainId: DST,
  recipient: RECIPIENT as ViemAddress,
  gated: false,
  body,
  transactionHash: word(5000 + nonce) as Hex,
  sentAt: T0 - 10_000,
})

const trackerOf = (nonces: ReadonlyArray<number>) => {
  const tracker = new Tracker()
  for (const nonce of nonces) tracker.sent(sentMessage(nonce))
  return tracker
}

type Event =
  | MessageObserved
  | MessageProven
  | CheckpointAttested
  | RootCommitted
  | DeliveryConfirmed
  | DeliverySkipped
  | LaneStalled

/** The event as it sits in the log, `atMs` after T0. */
const envelope = (event: Event, atMs: number): Envelope =>
  makeEnvelope(event, {
    producer: producerOf(event._tag === "MessageObserved" ? "chain-watcher" : "submitter", String(SRC)),
    causationId: null,
    time: new Date(T0 + atMs),
  })

const observed = (nonce: number, atMs: number) =>
  envelope(
    new MessageObserved({
      message: messageAt(nonce),
      messageId: idOf(nonce),
      outbox: OUTBOX,
      block: new BlockRef({ number: 100 + nonce, hash: Bytes32.make(word(100 + nonce)) }),
      blockTimestamp: 1_700_000_000 + nonce,
      transactionHash: TxHash.make(word(5000 + nonce)),
      logIndex: 0,
    }),
    atMs,
  )

type LaneOptions = { readonly outbox?: Address; readonly dstChainId?: number }

const checkpointAt = (count: number, lane: LaneOptions = {}) =>
  new Checkpoint({
    srcChainId: ChainId.make(SRC),
    outbox: lane.outbox ?? OUTBOX,
    dstChainId: ChainId.make(lane.dstChainId ?? DST),
    root: Bytes32.make(word(9000 + count)),
    count,
  })

/** A range proof of the consecutive messages `nonces` against the checkpoint right after the last. */
const proven = (nonces: ReadonlyArray<number>, atMs: number) =>
  envelope(
    new MessageProven({
      checkpoint: checkpointAt(nonces.at(-1)! + 1),
      kind: "range",
      start: nonces[0]!,
      messages: nonces.map(messageAt),
      messageIds: nonces.map(idOf),
      proof: [],
    }),
    atMs,
  )

const attested = (count: number, atMs: number, lane: LaneOptions = {}) =>
  envelope(
    new CheckpointAttested({
      checkpoint: checkpointAt(count, lane),
      digest: Bytes32.make(word(7000 + count)),
      epoch: 1,
      signatures: [],
      signedStake: U256.make("7"),
      totalStake: U256.make("10"),
      thresholdBps: 6667,
    }),
    atMs,
  )

const committed = (count: number, atMs: number) =>
  envelope(
    new RootCommitted({
      checkpoint: checkpointAt(count),
      transactionHash: TxHash.make(word(8000 + count)),
      block: new BlockRef({ number: 200 + count, hash: Bytes32.make(word(200 + count)) }),
    }),
    atMs,
  )

type Result = MessageOutcome["result"]

const LANE = new Lane({ srcChainId: ChainId.make(SRC), outbox: OUTBOX, dstChainId: ChainId.make(DST) })

const confirmed = (
  outcomes: ReadonlyArray<readonly [nonce: number, result: Result]>,
  atMs: number,
  action: DeliveryAction = "deliver",
) =>
  envelope(
    new DeliveryConfirmed({
      lane: LANE,
      action,
      transactionHash: TxHash.make(word(6000 + atMs)),
      block: new BlockRef({ number: 300, hash: Bytes32.make(word(300)) }),
      gasUsed: U256.make("90000"),
      outcomes: outcomes.map(
        ([nonce, result]) =>
          new MessageOutcome({
            messageId: idOf(nonce),
            result,
            reason: result === "failed" ? WireHex.make("0x08c379a0") : null,
          }),
      ),
    }),
    atMs,
  )

/** The submitter skipped messages the Inbox had already attempted: what the Inbox showed, by nonce. */
const skipped = (statuses: Readonly<Record<number, SkippedStatus>>, atMs: number) => {
  const nonces = Object.keys(statuses).map(Number)
  const skip = { messageIds: nonces.map(idOf), statuses: nonces.map((nonce) => statuses[nonce]!) }
  return envelope(
    new DeliverySkipped({ lane: LANE, action: "deliver", ...skip, reason: "already attempted" }),
    atMs,
  )
}

const stalled = (reason: StallReason, detail: string, dstChainId = DST) =>
  envelope(
    new LaneStalled({
      lane: new Lane({ srcChainId: ChainId.make(SRC), outbox: OUTBOX, dstChainId: ChainId.make(dstChainId) }),
      reason,
      treeCount: 3,
      detail,
    }),
    0,
  )

/**
 * Four messages: all observed (one a second), 0–2 proven, the checkpoint at 3
 * attested, the one at 2 committed, 0 and 1 delivered (latencies 7 s and 11 s).
 */
const journey = (): ReadonlyArray<Envelope> => [
  observed(0, 0),
  observed(1, 1000),
  observed(2, 2000),
  observed(3, 3000),
  proven([0, 1, 2], 4000),
  attested(3, 5000),
  committed(2, 6000),
  confirmed([[0, "delivered"]], 7000),
  confirmed([[1, "delivered"]], 12_000),
]

const JOURNEY_COUNTS = {
  sent: 4,
  observed: 4,
  proven: 3,
  attested: 3,
  committed: 2,
  delivered: 2,
  failed: 0,
}

const field = (tracker: Tracker, name: "attestedAt" | "committedAt") =>
  tracker.messages().map((m) => (m[name] === undefined ? undefined : m[name] - T0))

describe("Tracker", () => {
  describe("in log order", () => {
    it("given a journey read in order, when it is applied, then every stage counts the messages that reached it", () => {
      const tracker = trackerOf([0, 1, 2, 3])
      tracker.apply(journey())
      expect(tracker.progress().counts).toEqual(JOURNEY_COUNTS)
    })

    it("given a delivered message, when the journey is applied, then it carries the time of every stage", () => {
      const tracker = trackerOf([0, 1, 2, 3])
      tracker.apply(journey())
      const [first, , , last] = tracker.messages()
      expect(first).toMatchObject({
        messageId: idOf(0),
        nonce: 0,
        outbox: OUTBOX,
        observedAt: T0,
        provenAt: T0 + 4000,
        attestedAt: T0 + 5000,
        committedAt: T0 + 6000,
        deliveredAt: T0 + 7000,
        failedAt: undefined,
        deliveries: 1,
      })
      expect(last).toMatchObject({
        messageId: idOf(3),
        nonce: 3,
        observedAt: T0 + 3000,
        provenAt: undefined,
        attestedAt: undefined,
        committedAt: undefined,
        deliveredAt: undefined,
        deliveries: 0,
      })
    })

    it("given two deliveries, when the journey is applied, then latency runs from observation to delivery and the summary takes p50 and p99", () => {
      const tracker = trackerOf([0, 1, 2, 3])
      tracker.apply(journey())
      expect(tracker.progress().latenciesMs).toEqual([7000, 11_000])
      expect(tracker.summary()).toMatchObject({
        sent: 4,
        delivered: 2,
        failed: 0,
        p50Ms: 7000,
        p99Ms: 11_000,
      })
    })

    it("given confirmed transactions, one read twice, when the summary is taken, then it counts each once and gives their gas per message delivered", () => {
      const tracker = trackerOf([0, 1, 2, 3])
      const both = confirmed(
        [
          [2, "delivered"],
          [3, "failed"],
        ],
        13_000,
      )
      // Two transactions of one message each (90,000 gas each), and one of two messages, one failed (90,000)
      tracker.apply([...journey(), both, both])
      expect(tracker.summary()).toMatchObject({ deliveryTransactions: 3, gasPerMessage: 90_000 })
    })

    it("given nothing confirmed, when the summary is taken, then it has no gas per message", () => {
      const tracker = trackerOf([0])
      tracker.apply([observed(0, 0)])
      expect(tracker.summary()).toMatchObject({ deliveryTransactions: 0, gasPerMessage: null })
    })

    it("given the journey's record times, when it is applied with them, then each hop runs between the records, not the envelopes' times", () => {
      const tracker = trackerOf([0, 1, 2, 3])
      const events = journey()
      // An output carries its input's time; only the record says when the hop happened.
      const sameTime = events.map((e) => ({ ...e, time: events[0]!.time }))
      tracker.apply(
        sameTime,
        [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 12_000].map((ms) => T0 + ms),
      )
      expect(tracker.summary().hops).toEqual({
        "observed→proven": { p50Ms: 3000, p99Ms: 4000 },
        "proven→attested": { p50Ms: 1000, p99Ms: 1000 },
        "attested→committed": { p50Ms: 1000, p99Ms: 1000 },
        "committed→delivered": { p50Ms: 1000, p99Ms: 6000 },
      })
      expect(tracker.summary().p50Ms).toBe(7000)
    })

    it("given messages sent over time, when the summary is taken, then it says the rate actually sent", () => {
      const tracker = new Tracker()
      for (const nonce of [0, 1, 2, 3, 4]) tracker.sent({ ...sentMessage(nonce), sentAt: T0 + nonce * 250 })
      expect(tracker.summary().sentPerS).toBe(4)
    })

    it("given half a million messages sent, when the summary is taken, then it says their rate without overflowing the stack", () => {
      const tracker = new Tracker()
      for (let nonce = 0; nonce < 500_000; nonce++)
        tracker.sent({ ...sentMessage(nonce), sentAt: T0 + nonce * 2 })
      expect(tracker.summary().sentPerS).toBe(500)
    })

    it("given nothing delivered yet, when the summary is taken, then it has no latency percentiles", () => {
      const tracker = trackerOf([0, 1])
      tracker.apply([observed(0, 0), observed(1, 1000)])
      expect(tracker.summary()).toMatchObject({ sent: 2, delivered: 0, failed: 0, p50Ms: null, p99Ms: null })
      expect(tracker.summary().hops["observed→proven"]).toEqual({ p50Ms: null, p99Ms: null })
    })
  })

  describe("out of log order", () => {
    it("given a delivery read before its observation, when both are applied, then the message counts as delivered", () => {
      const tracker = trackerOf([0])
      tracker.apply([confirmed([[0, "delivered"]], 4000)])
      tracker.apply([observed(0, 1000)])
      expect(tracker.progress().counts.delivered).toBe(1)
      expect(tracker.progress().latenciesMs).toEqual([3000])
    })

    it("given the journey read backwards one event per poll, when it is applied, then the result is the same as in order", () => {
      const inOrder = trackerOf([0, 1, 2, 3])
      inOrder.apply(journey())
      const backwards = trackerOf([0, 1, 2, 3])
      for (const event of [...journey()].reverse()) backwards.apply([event])
      expect(backwards.progress().counts).toEqual(JOURNEY_COUNTS)
      expect(backwards.messages()).toEqual(inOrder.messages())
      expect(backwards.progress()).toEqual(inOrder.progress())
      expect(backwards.summary()).toEqual(inOrder.summary())
    })

    it("given the journey read topic by topic (deliveries, checkpoints, proofs, then observations), when it is applied, then the result is the same as in order", () => {
      const inOrder = trackerOf([0, 1, 2, 3])
      inOrder.apply(journey())
      const [o0, o1, o2, o3, p, a, c, d0, d1] = journey()
      const byTopic = trackerOf([0, 1, 2, 3])
      byTopic.apply([d0!, d1!])
      byTopic.apply([a!, c!])
      byTopic.apply([p!])
      byTopic.apply([o0!, o1!, o2!, o3!])
      expect(byTopic.messages()).toEqual(inOrder.messages())
      expect(byTopic.progress()).toEqual(inOrder.progress())
    })

    it("given every rotation of the journey, when each is applied, then every one gives the in-order result", () => {
      const inOrder = trackerOf([0, 1, 2, 3])
      inOrder.apply(journey())
      const events = journey()
      for (let k = 1; k < events.length; k++) {
        const rotated = trackerOf([0, 1, 2, 3])
        rotated.apply([...events.slice(k), ...events.slice(0, k)])
        expect(rotated.messages(), `rotation ${k}`).toEqual(inOrder.messages())
      }
    })
  })

  describe("checkpoint coverage", () => {
    it("given an attested checkpoint with count 2, when it is applied, then it covers nonces 0 and 1 but not 2", () => {
      const tracker = trackerOf([0, 1, 2])
      tracker.apply([observed(0, 0), observed(1, 0), observed(2, 0), attested(2, 5000)])
      expect(field(tracker, "attestedAt")).toEqual([5000, 5000, undefined])
      expect(tracker.progress().counts.attested).toBe(2)
    })

    it("given a later-count checkpoint attested earlier but read after, when both are applied, then every covered message takes the earliest time", () => {
      const tracker = trackerOf([0, 1, 2])
      tracker.apply([observed(0, 0), observed(1, 0), observed(2, 0)])
      tracker.apply([attested(2, 5000)])
      tracker.apply([attested(3, 4000)])
      expect(field(tracker, "attestedAt")).toEqual([4000, 4000, 4000])
    })

    it("given a later-count checkpoint attested later, when both are applied, then only the nonce it alone covers takes its time", () => {
      const tracker = trackerOf([0, 1, 2])
      tracker.apply([attested(3, 6000), attested(2, 5000)])
      tracker.apply([observed(0, 0), observed(1, 0), observed(2, 0)])
      expect(field(tracker, "attestedAt")).toEqual([5000, 5000, 6000])
    })

    it("given a committed root with count 1, when it is applied, then only nonce 0 counts as committed", () => {
      const tracker = trackerOf([0, 1, 2])
      tracker.apply([committed(1, 6000), observed(0, 0), observed(1, 0), observed(2, 0)])
      expect(field(tracker, "committedAt")).toEqual([6000, undefined, undefined])
      expect(tracker.progress().counts.committed).toBe(1)
    })

    it("given checkpoints of other lanes (another outbox, another destination), when they are applied, then they cover nothing on this lane", () => {
      const tracker = trackerOf([0, 1])
      tracker.apply([
        observed(0, 0),
        observed(1, 0),
        attested(10, 5000, { outbox: OTHER_OUTBOX }),
        attested(10, 5000, { dstChainId: OTHER_DST }),
      ])
      expect(field(tracker, "attestedAt")).toEqual([undefined, undefined])
      expect(tracker.progress().counts.attested).toBe(0)
    })

    it("given a checkpoint but no observation, when it is applied, then the message is not attested (its nonce is unknown)", () => {
      const tracker = trackerOf([0])
      tracker.apply([attested(5, 5000)])
      expect(tracker.progress().counts.attested).toBe(0)
    })
  })

  describe("confirmations", () => {
    it("given a commitAndDeliver confirmation and no RootCommitted, when it is applied, then the message counts as committed at the confirmation", () => {
      const tracker = trackerOf([0, 1])
      tracker.apply([observed(0, 0), observed(1, 0)])
      tracker.apply([
        confirmed([[0, "delivered"]], 3000, "commitAndDeliver"),
        confirmed([[1, "delivered"]], 3000),
      ])
      expect(field(tracker, "committedAt")).toEqual([3000, undefined])
      expect(tracker.progress().counts).toMatchObject({ committed: 1, delivered: 2 })
    })

    it("given a failed outcome, when it is applied, then the message counts as failed and not delivered", () => {
      const tracker = trackerOf([0, 1, 2])
      tracker.apply([observed(0, 0), observed(1, 1000), observed(2, 2000)])
      tracker.apply([
        confirmed(
          [
            [0, "failed"],
            [1, "delivered"],
            [2, "skipped"],
          ],
          3000,
        ),
      ])
      expect(tracker.progress().counts).toMatchObject({ delivered: 1, failed: 1 })
      expect(tracker.progress().latenciesMs).toEqual([2000])
      expect(tracker.messages()[0]).toMatchObject({
        failedAt: T0 + 3000,
        deliveredAt: undefined,
        deliveries: 0,
      })
      expect(tracker.summary()).toMatchObject({ sent: 3, delivered: 1, failed: 1, p50Ms: 2000, p99Ms: 2000 })
    })

    it("given a failure then a retry that delivered, when both are applied, then the message counts as delivered and not failed", () => {
      const tracker = trackerOf([0])
      tracker.apply([
        observed(0, 0),
        confirmed([[0, "failed"]], 3000),
        confirmed([[0, "delivered"]], 9000, "retry"),
      ])
      expect(tracker.progress().counts).toMatchObject({ delivered: 1, failed: 0 })
      expect(tracker.progress().latenciesMs).toEqual([9000])
    })

    it("given one message reported delivered by two confirmations, when both are applied, then it counts once as delivered and once as a duplicate", () => {
      const tracker = trackerOf([0, 1])
      tracker.apply([observed(0, 0), observed(1, 0), confirmed([[1, "delivered"]], 2000)])
      tracker.apply([confirmed([[0, "delivered"]], 3000)])
      tracker.apply([confirmed([[0, "delivered"]], 8000)])
      expect(tracker.progress().counts.delivered).toBe(2)
      expect(tracker.progress().duplicates).toBe(1)
      expect(tracker.messages()[0]).toMatchObject({ deliveredAt: T0 + 3000, deliveries: 2 })
      expect(tracker.progress().latenciesMs).toEqual([3000, 2000])
    })

    it("given two confirmations of one delivery read in either order, when they are applied, then deliveredAt is the earlier", () => {
      for (const order of [
        [3000, 8000],
        [8000, 3000],
      ]) {
        const tracker = trackerOf([0])
        tracker.apply([observed(0, 0)])
        for (const atMs of order) tracker.apply([confirmed([[0, "delivered"]], atMs)])
        expect(tracker.messages()[0]?.deliveredAt, `read at ${order.join(", ")}`).toBe(T0 + 3000)
      }
    })
  })

  describe("skipped deliveries (the Inbox had already attempted the message)", () => {
    it("given a skip where the Inbox shows the message delivered, when it is applied, then the message counts as delivered", () => {
      const tracker = trackerOf([0])
      tracker.apply([observed(0, 0), skipped({ 0: "delivered" }, 5000)])
      expect(tracker.progress().counts).toMatchObject({ delivered: 1, failed: 0 })
      expect(tracker.messages()[0]).toMatchObject({ deliveredAt: T0 + 5000, failedAt: undefined })
      expect(tracker.summary()).toMatchObject({ sent: 1, delivered: 1, failed: 0 })
    })

    it("given a skip where the Inbox shows the message failed, when it is applied, then the message counts as failed", () => {
      const tracker = trackerOf([0])
      tracker.apply([observed(0, 0), skipped({ 0: "failed" }, 5000)])
      expect(tracker.progress().counts).toMatchObject({ delivered: 0, failed: 1 })
      expect(tracker.messages()[0]).toMatchObject({ failedAt: T0 + 5000, deliveredAt: undefined })
    })

    it("given a skip whose Inbox status is unknown, when it is applied, then the message is settled neither way", () => {
      const tracker = trackerOf([0])
      tracker.apply([observed(0, 0), skipped({ 0: "unknown" }, 5000)])
      expect(tracker.progress().counts).toMatchObject({ observed: 1, delivered: 0, failed: 0 })
    })

    it("given a batch skip, when it is applied, then each message takes the status paired with it", () => {
      const tracker = trackerOf([0, 1, 2])
      tracker.apply([observed(0, 0), observed(1, 0), observed(2, 0)])
      tracker.apply([skipped({ 0: "delivered", 1: "failed", 2: "unknown" }, 5000)])
      expect(tracker.messages().map((m) => [m.deliveredAt !== undefined, m.failedAt !== undefined])).toEqual([
        [true, false],
        [false, true],
        [false, false],
      ])
    })

    it("given a confirmed delivery and a later skip showing it delivered, when both are applied in either order, then it is one delivery, not a duplicate", () => {
      for (const events of [
        [confirmed([[0, "delivered"]], 3000), skipped({ 0: "delivered" }, 8000)],
        [skipped({ 0: "delivered" }, 8000), confirmed([[0, "delivered"]], 3000)],
      ]) {
        const tracker = trackerOf([0])
        tracker.apply([observed(0, 0), ...events])
        expect(tracker.progress()).toMatchObject({ counts: { delivered: 1 }, duplicates: 0 })
        expect(tracker.messages()[0]).toMatchObject({ deliveredAt: T0 + 3000, deliveries: 1 })
      }
    })

    it("given a skip showing a failed message delivered after a retry, when both are applied, then it counts as delivered and not failed", () => {
      const tracker = trackerOf([0])
      tracker.apply([observed(0, 0), confirmed([[0, "failed"]], 3000), skipped({ 0: "delivered" }, 9000)])
      expect(tracker.progress().counts).toMatchObject({ delivered: 1, failed: 0 })
    })
  })

  describe("proofs", () => {
    it("given a message proven twice (a range, then a single proof) read in either order, when both are applied, then provenAt is the earlier", () => {
      const single = (atMs: number) => proven([1], atMs)
      for (const [first, second] of [
        [proven([0, 1, 2], 4000), single(9000)],
        [single(9000), proven([0, 1, 2], 4000)],
      ]) {
        const tracker = trackerOf([1])
        tracker.apply([first!, observed(1, 0)])
        tracker.apply([second!])
        expect(tracker.messages()[0]?.provenAt).toBe(T0 + 4000)
        expect(tracker.progress().counts.proven).toBe(1)
      }
    })
  })

  describe("observations", () => {
    it("given an observation republished later, when both are applied, then observedAt stays at the first", () => {
      const tracker = trackerOf([0])
      tracker.apply([observed(0, 1000)])
      tracker.apply([observed(0, 9000), confirmed([[0, "delivered"]], 11_000)])
      expect(tracker.messages()[0]?.observedAt).toBe(T0 + 1000)
      expect(tracker.progress().counts.observed).toBe(1)
      expect(tracker.progress().latenciesMs).toEqual([10_000])
    })

    it("given a sent body in upper case, when its observation is applied, then the two are matched", () => {
      const tracker = new Tracker()
      tracker.sent(sentMessage(0, `0x${bodyOf(0).slice(2).toUpperCase()}`))
      tracker.apply([observed(0, 0)])
      expect(tracker.messages()[0]?.messageId).toBe(idOf(0))
      expect(tracker.progress().counts.observed).toBe(1)
    })
  })

  describe("messages the tracker did not send", () => {
    it("given events about messages never sent, when they are applied, then they are left out of every count", () => {
      const tracker = trackerOf([1])
      tracker.apply([
        observed(0, 0),
        observed(1, 1000),
        observed(2, 2000),
        proven([0, 1, 2], 3000),
        attested(3, 4000),
        committed(3, 5000),
        confirmed(
          [
            [0, "delivered"],
            [1, "delivered"],
            [2, "failed"],
          ],
          6000,
        ),
        confirmed([[0, "delivered"]], 7000),
      ])
      expect(tracker.progress().counts).toEqual({
        sent: 1,
        observed: 1,
        proven: 1,
        attested: 1,
        committed: 1,
        delivered: 1,
        failed: 0,
      })
      expect(tracker.progress().duplicates).toBe(0)
      expect(tracker.progress().latenciesMs).toEqual([5000])
      expect(tracker.messages().map((m) => m.sent.index)).toEqual([1])
    })
  })

  describe("stalls", () => {
    it("given no LaneStalled, when progress is taken, then there are no stalls", () => {
      const tracker = trackerOf([0])
      tracker.apply(journey())
      expect(tracker.progress().stalls).toEqual([])
    })

    it("given LaneStalled on two lanes, when they are applied, then progress names each lane with its reason and detail", () => {
      const tracker = trackerOf([0])
      tracker.apply([
        stalled("nonce-gap", "nonce 3 missing"),
        stalled("root-mismatch", "root differs at count 4", OTHER_DST),
      ])
      expect(tracker.progress().stalls).toEqual([
        "901-902 nonce-gap: nonce 3 missing",
        "901-903 root-mismatch: root differs at count 4",
      ])
    })
  })
})
