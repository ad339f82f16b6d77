import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  DeliveryConfirmed,
  type Envelope,
  Lane,
  MessageId,
  MessageOutcome,
  MessageProven,
  makeEnvelope,
  TxHash,
  U256,
  Uint,
} from "../schemas/index.ts"
import { producerOf } from "../services/runtime/producer.ts"
import { incrementsOf } from "./event-metrics.ts"

const OUTBOX = Address.make(`0x${"0a".repeat(20)}`)
const lane = new Lane({ srcChainId: ChainId.make(901), outbox: OUTBOX, dstChainId: ChainId.make(902) })
const checkpoint = new Checkpoint({
  srcChainId: ChainId.make(901),
  outbox: OUTBOX,
  dstChainId: ChainId.make(902),
  root: Bytes32.make(`0x${"11".repeat(32)}`),
  count: Uint.make(3),
})
const id = (n: number) => MessageId.make(`0x${n.toString(16).padStart(64, "0")}`)

const stamp = (event: Parameters<typeof makeEnvelope>[0]): Envelope =>
  makeEnvelope(event, { producer: producerOf("submitter", "902"), causationId: null, time: new Date(0) })

const confirmed = (
  action: "deliver" | "commitAndDeliver",
  results: ReadonlyArray<"delivered" | "failed" | "skipped">,
) =>
  stamp(
    new DeliveryConfirmed({
      lane,
      action,
      transactionHash: TxHash.make(`0x${"22".repeat(32)}`),
      block: new BlockRef({ number: Uint.make(7), hash: Bytes32.make(`0x${"33".repeat(32)}`) }),
      gasUsed: U256.make("90000"),
      outcomes: results.map((result, i) => new MessageOutcome({ messageId: id(i), result, reason: null })),
    }),
  )

const proven = (kind: "range" | "single", count: number) =>
  stamp(
    new MessageProven({
      checkpoint,
      kind,
      start: Uint.make(0),
      messages: [],
      messageIds: Array.from({ length: count }, (_, i) => id(i)),
      proof: [],
    }),
  )

describe("the metrics a published event adds", () => {
  it("given a confirmed delivery, counts each message by what the Inbox did with it, by lane", () => {
    expect(incrementsOf(confirmed("deliver", ["delivered", "failed", "delivered", "skipped"]))).toEqual([
      { metric: "messagesDelivered", labels: { lane: "901-902" }, by: 2 },
      { metric: "messagesFailed", labels: { lane: "901-902" }, by: 1 },
    ])
  })

  it("given a commitAndDeliver, counts its checkpoint as committed too (no RootCommitted is written for it)", () => {
    expect(incrementsOf(confirmed("commitAndDeliver", ["delivered"]))).toEqual([
      { metric: "messagesDelivered", labels: { lane: "901-902" }, by: 1 },
      { metric: "checkpointsCommitted", labels: { lane: "901-902" }, by: 1 },
    ])
  })

  it("given a range proof and the single proofs of the same messages, counts each message proven once", () => {
    expect(incrementsOf(proven("range", 3))).toEqual([
      { metric: "messagesProven", labels: { lane: "901-902" }, by: 3 },
    ])
    expect(incrementsOf(proven("single", 1))).toEqual([])
  })
})
