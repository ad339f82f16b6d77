/**
 * Every `DeliverySkipped` the submitter records says what the Inbox showed
 * for each skipped message: before sending (the Inbox already attempted the
 * whole batch, or its leading chunks) and after a flight whose nonce another
 * transaction used. The chain is faked: only the Inbox reads and the
 * receipts these paths make.
 */
import { describe, expect, it } from "vitest"
import type { ChainWriter } from "../../../chains/index.ts"
import type { DeliveryFailed, DeliverySkipped, Envelope, MessageId } from "../../../schemas/index.ts"
import { foldCore, producerOf } from "../../runtime/index.ts"
import { type DeliverAction, laneIdOf, makeSubmitterCore, planActions } from "../core/index.ts"
import { DST, fakeLane, writerOver } from "../test/fake-writer.ts"
import { advanceFlight } from "./flight.ts"
import { sendAction } from "./send.ts"
import { skippedStatuses } from "./skipped-statuses.ts"
import type { ActiveFlight } from "./writer.ts"

const lane = fakeLane(6)

const skipsIn = (published: ReadonlyArray<Envelope>) =>
  published.filter((e) => e.type === "DeliverySkipped").map((e) => e.event as DeliverySkipped)

const planned = (...inputs: ReadonlyArray<Envelope>) => {
  const state = foldCore(
    makeSubmitterCore(DST),
    producerOf("submitter", String(DST)),
    inputs.map((input) => ({ input, reads: [] })),
  ).state
  return planActions(state, Date.now(), { batchSize: 64, windowMs: 0, maxBatchGas: 10_000_000 }).actions
}

describe("the Inbox status of each skipped message", () => {
  it("given the Inbox attempted a whole batch, when it is sent, then the skip carries each message's status in order", async () => {
    // Given a lone chunk of 4 (a commitAndDeliver) whose messages the Inbox shows delivered, failed, unreadable
    // and — contradicting its attempted bitmap — not attempted
    const [action] = planned(lane.attested(4), ...lane.chunks(0, 4, 4))
    expect(action).toMatchObject({ kind: "commitAndDeliver", start: 0 })
    const { w, published, warnings } = writerOver(
      {
        statuses: { 0: "delivered", 1: "failed", 2: new Error("rpc timeout"), 3: "none" },
        attempted: [0, 1, 2, 3],
      },
      { blockNumber: async () => 100 },
    )
    // When the submitter sends it
    const result = await sendAction(w, action!)
    // Then nothing is sent, and the skip says what the Inbox showed, "unknown" where it could not tell
    expect(result).toMatchObject({ kind: "skipped", messageIds: lane.ids.slice(0, 4) })
    expect(skipsIn(published)).toMatchObject([
      {
        action: "commitAndDeliver",
        messageIds: lane.ids.slice(0, 4),
        statuses: ["delivered", "failed", "unknown", "unknown"],
        reason:
          "all 4 messages already delivered (4 by a transaction not among the Inbox's events of the last 50000 blocks)",
      },
    ])
    // And each "unknown" is explained in the log
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'skipped message recorded with Inbox status "unknown": reading Inbox.messageStatus failed',
        messageId: lane.ids[2],
        nonce: 2,
        error: "rpc timeout",
      }),
      expect.objectContaining({
        msg: 'skipped message recorded with Inbox status "unknown": the Inbox shows its nonce not attempted, though it was skipped as attempted',
        messageId: lane.ids[3],
        nonce: 3,
      }),
    ])
  })

  it("given the Inbox attempted the leading chunk of a batch, when it is sent, then that chunk's skip carries its statuses", async () => {
    // Given two chunks of 2 under a committed root; the Inbox attempted the first (one failed, one delivered)
    const attested = lane.attested(4)
    const [action] = planned(attested, ...lane.chunks(0, 4, 2), lane.rootCommitted(attested.id, 4, 1))
    expect(action).toMatchObject({ kind: "deliver", start: 0 })
    expect((action as DeliverAction).chunks).toHaveLength(2)
    const { w, published } = writerOver(
      { committed: 4, statuses: { 0: "failed", 1: "delivered" } },
      {
        blockNumber: async () => 100,
        estimate: async () => {
          throw new Error("estimation stops the test here")
        },
      },
    )
    // When the submitter sends it
    await expect(sendAction(w, action!)).rejects.toThrow("estimation stops the test here")
    // Then the first chunk was recorded skipped, with what the Inbox showed for each of its messages
    expect(skipsIn(published)).toEqual([
      expect.objectContaining({
        action: "deliver",
        messageIds: lane.ids.slice(0, 2),
        statuses: ["failed", "delivered"],
        reason:
          "2 of 4 messages already delivered (2 by a transaction not among the Inbox's events of the last 50000 blocks)",
      }),
    ])
  })

  it("given a flight whose nonce another transaction used, when it is settled, then the skip of the messages the Inbox attempted carries their statuses", async () => {
    // Given a commitAndDeliver of messages 0–2 in the air, none of whose transactions landed, while the Inbox
    // committed its root and attempted messages 0 (failed) and 1 (delivered), not 2
    const submitted = lane.submitted(lane.attested(3).id, {
      action: "commitAndDeliver",
      ids: lane.ids.slice(0, 3),
      tx: 1,
      nonce: 5,
    })
    const flight: ActiveFlight = {
      laneId: laneIdOf(lane.lane),
      lane: lane.lane,
      action: "commitAndDeliver",
      messageIds: lane.ids.slice(0, 3),
      nonce: 5,
      root: lane.checkpoint(3).root,
      proofRoot: null,
      messageNonces: new Map(lane.ids.slice(0, 3).map((id, i) => [id, i])),
      request: null,
      transactions: [{ hash: lane.hashOf(1), submission: submitted.id }],
      lastSentAt: 0,
    }
    const { w, published } = writerOver(
      { committed: 3, statuses: { 0: "failed", 1: "delivered" } },
      {
        receipt: async () => null,
        transactionCount: async () => 6,
      },
    )
    w.launched(flight)
    // When the flight is advanced
    const result = await advanceFlight(w, flight)
    // Then the root's skip names no message, the attempted messages' skip has the Inbox's statuses, and the
    // message it did not attempt goes back to the queue
    expect(result).toMatchObject({ kind: "superseded", nonce: 5 })
    expect(skipsIn(published)).toEqual([
      expect.objectContaining({ action: "commit", messageIds: [], statuses: [] }),
      expect.objectContaining({
        action: "commitAndDeliver",
        messageIds: lane.ids.slice(0, 2),
        statuses: ["failed", "delivered"],
      }),
    ])
    const failed = published.filter((e) => e.type === "DeliveryFailed").map((e) => e.event as DeliveryFailed)
    expect(failed.map((f) => f.messageIds)).toEqual([[lane.ids[2]]])
    expect(published.every((e) => e.causationId === submitted.id)).toBe(true)
  })

  it("given a retry whose nonce another transaction used, when the Inbox shows the message delivered, then it is skipped as delivered", async () => {
    const request = lane.retryRequested(4)
    const submitted = lane.submitted(request.id, { action: "retry", ids: [lane.ids[4]!], tx: 2, nonce: 7 })
    const flight: ActiveFlight = {
      laneId: laneIdOf(lane.lane),
      lane: lane.lane,
      action: "retry",
      messageIds: [lane.ids[4]!],
      nonce: 7,
      root: null,
      proofRoot: null,
      messageNonces: new Map([[lane.ids[4]!, 4]]),
      request: null,
      transactions: [{ hash: lane.hashOf(2), submission: submitted.id }],
      lastSentAt: 0,
    }
    const chain: Partial<ChainWriter> = {
      receipt: async () => null,
      transactionCount: async () => 8,
    }
    const delivered = writerOver({ statuses: { 4: "delivered" } }, chain)
    await advanceFlight(delivered.w, flight)
    expect(skipsIn(delivered.published)).toEqual([
      expect.objectContaining({ action: "retry", messageIds: [lane.ids[4]], statuses: ["delivered"] }),
    ])
    // And when it shows the message still failed, the retry failed (no skip): a new request is needed
    const failed = writerOver({ statuses: { 4: "failed" } }, chain)
    await advanceFlight(failed.w, flight)
    expect(skipsIn(failed.published)).toEqual([])
    expect(failed.published.map((e) => e.type)).toEqual(["DestinationRead", "DeliveryFailed"])
  })

  it("given a message whose nonce the submitter does not know, then its status is unknown and nothing is read", async () => {
    const { w, warnings, statusReads } = writerOver({ statuses: { 0: "delivered", 1: "failed" } })
    const ids: MessageId[] = [lane.ids[0]!, lane.ids[1]!]
    expect(await skippedStatuses(w, lane.lane, ids, new Map([[lane.ids[0]!, 0]]))).toEqual([
      "delivered",
      "unknown",
    ])
    expect(statusReads).toEqual([0])
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'skipped message recorded with Inbox status "unknown": the submitter does not know its nonce',
        messageId: lane.ids[1],
      }),
    ])
  })
})
