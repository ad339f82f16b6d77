/**
 * What the index makes of a skipped message: the Inbox status the
 * submitter recorded settles it (delivered or failed), "unknown" leaves it
 * where it was, and its timeline says what the Inbox showed.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  BlockRef,
  Bytes32,
  type Envelope,
  MessageObserved,
  makeEnvelope,
  Producer,
  TxHash,
} from "../../schemas/index.ts"
import { makeLaneFixture } from "../submitter/test/lane-fixture.ts"
import { indexEvent } from "./index-event.ts"
import { AuditStore } from "./index-store.ts"
import { listMessages } from "./list-messages.ts"
import { traceMessage } from "./trace-message.ts"

const lane = makeLaneFixture({
  srcChainId: 777,
  outbox: "0x00000000000000000000000000000000000a11ce",
  dstChainId: 902,
  recipient: "0x000000000000000000000000000000000000c0de",
  count: 4,
})
const watcher = new Producer({ service: "chain-watcher", instance: "777", version: "test" })
const T = Date.parse("2026-01-01T00:00:00.000Z")

const observed = (nonce: number) =>
  makeEnvelope(
    new MessageObserved({
      message: lane.messages[nonce]!,
      messageId: lane.ids[nonce]!,
      outbox: lane.outbox,
      block: new BlockRef({ number: 5, hash: Bytes32.make(`0x${"aa".repeat(32)}`) }),
      blockTimestamp: 1_767_225_600,
      transactionHash: TxHash.make(`0x${"cc".repeat(32)}`),
      logIndex: nonce,
    }),
    { producer: watcher, causationId: null, time: new Date(T) },
  )

describe("a skipped message in the audit index", () => {
  let store: AuditStore
  let offset: number
  const index = (envelope: Envelope, at: number) =>
    indexEvent(store, envelope, {
      topic: envelope.type === "MessageObserved" ? "chorus.messages.observed" : "chorus.deliveries",
      partition: 0,
      offset: offset++,
      eventId: envelope.id,
      type: envelope.type,
      at,
    })
  const trace = (nonce: number, now = T + 1_000) =>
    traceMessage(store, lane.ids[nonce]!, { now, stuckAfterMs: 120_000 })!
  const skippedStep = (nonce: number) => trace(nonce).steps.find((s) => s.stage === "skipped")!

  beforeEach(() => {
    store = AuditStore.open(":memory:")
    offset = 0
    for (let nonce = 0; nonce < 4; nonce++) index(observed(nonce), T)
    // Given the submitter skipped messages 0–2, the Inbox showing them delivered, failed, and unread
    const attested = lane.attested(4)
    index(
      lane.skipped(attested.id, {
        action: "commitAndDeliver",
        ids: lane.ids.slice(0, 3),
        statuses: ["delivered", "failed", "unknown"],
      }),
      T + 500,
    )
  })
  afterEach(() => store.close())

  it("given the Inbox showed it delivered, then the message is delivered, and its timeline says so", () => {
    expect(trace(0)).toMatchObject({ status: "delivered", stage: "delivered", waiting: [] })
    expect(skippedStep(0)).toMatchObject({
      detail: { action: "commitAndDeliver", reason: "already delivered", status: "delivered" },
      summary:
        "commitAndDeliver skipped it: already delivered; the Inbox on chain 902 showed it delivered (its recipient ran)",
    })
  })

  it("given the Inbox showed it failed, then the message is failed, and its timeline says what the Inbox showed", () => {
    const failed = trace(1)
    expect(failed).toMatchObject({ status: "failed", stage: "failed" })
    expect(skippedStep(1).detail).toMatchObject({ status: "failed" })
    expect(skippedStep(1).summary).toBe(
      "commitAndDeliver skipped it: already delivered; the Inbox on chain 902 showed it failed (its recipient reverted)",
    )
    expect(failed.waiting).toContain(skippedStep(1).summary)
  })

  it("given the Inbox status is unknown, then the message does not move, and its timeline says how to find out", () => {
    // Seen long after, it is stuck where the skip found it: the index cannot tell delivered from failed
    expect(trace(2, T + 3_600_000)).toMatchObject({ status: "stuck", stage: "observed" })
    expect(skippedStep(2).detail).toMatchObject({ status: "unknown" })
    expect(skippedStep(2).summary).toBe(
      "commitAndDeliver skipped it: already delivered; what the Inbox on chain 902 showed for it was not recorded; " +
        "Inbox.messageStatus(777, 0x00000000000000000000000000000000000a11ce, 2) there tells whether it was delivered or failed",
    )
  })

  it("lists each by the status the Inbox showed", () => {
    const options = { now: T + 3_600_000, stuckAfterMs: 120_000, limit: 0 }
    const ids = (status: "delivered" | "failed" | "stuck") =>
      listMessages(store, { ...options, status }).rows.map((row) => row.id)
    expect(ids("delivered")).toEqual([lane.ids[0]])
    expect(ids("failed")).toEqual([lane.ids[1]])
    expect(ids("stuck").sort()).toEqual([lane.ids[2], lane.ids[3]].sort())
  })

  it("given a skip inside a confirmed transaction (the Inbox had attempted it), then it still settles nothing", () => {
    const submitted = lane.submitted(lane.attested(4).id, {
      action: "deliver",
      ids: [lane.ids[3]!],
      tx: 1,
      nonce: 0,
    })
    index(submitted, T + 600)
    index(
      lane.confirmed(submitted.id, { action: "deliver", ids: [lane.ids[3]!], tx: 1, results: ["skipped"] }),
      T + 700,
    )
    expect(trace(3)).toMatchObject({ stage: "submitted" })
  })
})
