import { describe, expect, it } from "vitest"
import { getMessageProof } from "../../../contracts/index.ts"
import { type Envelope, MessageId, type RetryRequested } from "../../../schemas/index.ts"
import { DST, submitterCoreFixture } from "../../../test/fixtures/submitter-core.ts"
import { decideRetry, lookupRetry, pendingRetries, type RetryChainFacts, type RetryLookup } from "./retry.ts"
import { laneIdOf, type RetryRequest, type SubmitterState } from "./state.ts"

const { core, lane, given } = submitterCoreFixture(8)
const laneId = laneIdOf(lane.lane)
const requestOf = (state: SubmitterState, envelope: Envelope<RetryRequested>): RetryRequest => {
  const found = state.requests.get(envelope.id)
  if (found === undefined) throw new Error(`request ${envelope.id} is not pending`)
  return found
}
const check = (lookup: RetryLookup) => {
  if (lookup.kind !== "check") throw new Error(`expected a check, got ${lookup.kind}: ${lookup.detail}`)
  return lookup
}
/** The lookup of a pending request, which must be one that asks the chain. */
const checkOf = (state: SubmitterState, request: Envelope<RetryRequested>) =>
  check(lookupRetry(state, requestOf(state, request)))
/** The decision on a request whose lookup asked the chain, given what the Inbox shows. */
const decide = (
  request: Envelope<RetryRequested>,
  lookup: ReturnType<typeof check>,
  status: RetryChainFacts["status"],
  committedRoots: ReadonlyArray<string> = [],
) => decideRetry(request.event, lookup, { status, committed: new Set(committedRoots) }, DST)
const proofOf = (nonce: number, count: number) => getMessageProof(lane.tree, nonce, count).siblings

// Checkpoints at 3 and 6, proven in chunks [0, 3) and [3, 6); the planner delivers [0, 6) in one
// commitAndDeliver against the root at 6, and message 1's recipient reverts.
const attested3 = lane.attested(3)
const attested6 = lane.attested(6)
const [chunkA] = lane.chunks(0, 3, 3)
const [chunkB] = lane.chunks(3, 6, 3)
const batch = lane.ids.slice(0, 6)
const sent = lane.submitted(attested6.id, { action: "commitAndDeliver", ids: batch, tx: 1, nonce: 0 }, 1)
const results = batch.map((_, i) => (i === 1 ? "failed" : "delivered") as "failed" | "delivered")
const landed = lane.confirmed(sent.id, { action: "commitAndDeliver", ids: batch, tx: 1, results }, 2)
const delivery = [attested3, chunkA!, attested6, chunkB!, sent, landed] as const

describe("retry requests in the submitter core", () => {
  it("keeps a message whose recipient reverted, proven against the root its batch was delivered against", () => {
    // Given the batch [0, 6) landed with message 1 failed
    const state = given(...delivery)
    // Then the chunks are dropped but message 1 is kept, with the message itself
    const held = state.lanes.get(laneId)!
    expect(held.chunks.size).toBe(0)
    expect(held.floor).toBe(6)
    const kept = held.retained.get(lane.ids[1]!)!
    expect(kept).toMatchObject({ how: "failed", message: lane.messages[1] })
    // And proven against the root at 6 (stored by the Inbox), then its own chunk's root at 3
    expect(kept.proofs.map((p) => p.checkpoint.count)).toEqual([6, 3])
    expect(kept.proofs[0]!.proof).toEqual(proofOf(1, 6))
    expect(kept.proofs[1]!.proof).toEqual(proofOf(1, 3))
    expect([...held.retained.keys()]).toEqual([lane.ids[1]])
  })

  it("given a batch sent as a part of its chunks, when a message of it fails, then it is kept proven against the root the part was proven against", () => {
    // Given the part [0, 2) of the chunks [0, 3)@3 and [3, 6)@6 sent against the root at 6 (the planner split
    // the batch), and message 1's recipient reverted
    const part = lane.ids.slice(0, 2)
    const partSent = lane.submitted(
      attested6.id,
      { action: "commitAndDeliver", ids: part, tx: 1, nonce: 0, proofRoot: attested6.event.checkpoint.root },
      1,
    )
    const partLanded = lane.confirmed(
      partSent.id,
      { action: "commitAndDeliver", ids: part, tx: 1, results: ["delivered", "failed"] },
      2,
    )
    const held = given(attested3, chunkA!, attested6, chunkB!, partSent, partLanded).lanes.get(laneId)!
    // Then message 1 is proven first against the root at 6, which the Inbox stored, then against its own at 3
    const kept = held.retained.get(lane.ids[1]!)!
    expect(kept.proofs.map((p) => p.checkpoint.count)).toEqual([6, 3])
    expect(kept.proofs[0]!.proof).toEqual(proofOf(1, 6))
  })

  it("holds a request until the first event caused by it, and never again after", () => {
    const request = lane.retryRequested(1, 10)
    // Given a request
    const pending = given(...delivery, request)
    expect(pendingRetries(pending).map((r) => r.id)).toEqual([request.id])
    expect(requestOf(pending, request)).toMatchObject({ laneId, nonce: 1, messageId: lane.ids[1] })
    // When it is refused, Then it is answered
    const refused = lane.retryRefused(request, "already-delivered", 11)
    const answered = given(...delivery, request, refused)
    expect(answered.requests.size).toBe(0)
    expect(answered.answered.has(request.id)).toBe(true)
    // And folded again after its answer (a republished record), or after an answer that came first, it stays answered
    expect(core.decide(answered, request, []).state.requests.size).toBe(0)
    expect(given(...delivery, refused, request).requests.size).toBe(0)
  })

  it("given the retry it sent (or its failure) folded before the request, when the request is folded, then it is not pending again", () => {
    // A rebuild orders by record time; a request published by a clock that runs ahead sorts after its answer.
    const request = lane.retryRequested(1, 10)
    const retry = lane.submitted(request.id, { action: "retry", ids: [lane.ids[1]!], tx: 2, nonce: 1 }, 11)
    const state = given(...delivery, retry, request)
    expect(state.requests.size).toBe(0)
    expect(pendingRetries(state)).toEqual([])
    expect(state.answered.has(request.id)).toBe(true)
    expect(state.answerCauses.has(request.id)).toBe(false)
  })

  it("answers a request with the retry it sent, and drops the message once the retry delivers it", () => {
    const request = lane.retryRequested(1, 10)
    const retry = lane.submitted(request.id, { action: "retry", ids: [lane.ids[1]!], tx: 2, nonce: 1 }, 11)
    // Given the retry is in flight
    const flying = given(...delivery, request, retry)
    expect(flying.requests.size).toBe(0)
    expect(flying.flights.get(1)).toMatchObject({ action: "retry", origin: request.id, root: null })
    // When it is confirmed with the message delivered
    const done = lane.confirmed(retry.id, { action: "retry", ids: [lane.ids[1]!], tx: 2 }, 12)
    const after = given(...delivery, request, retry, done)
    // Then nothing is in flight, nothing is kept, and no settlement mark is left behind
    expect(after.flights.size).toBe(0)
    const held = after.lanes.get(laneId)!
    expect(held.retained.size).toBe(0)
    expect(held.settled.size).toBe(0)
  })

  it("keeps the message failed when Inbox.retry reverts (the recipient still reverts)", () => {
    const request = lane.retryRequested(1, 10)
    // Given the retry's estimation reverted with RetryFailed, recorded as the request's answer
    const failed = lane.failed(
      request.id,
      { action: "retry", ids: [lane.ids[1]!], tx: null, revertData: "0x12345678", reason: "RetryFailed(…)" },
      11,
    )
    const state = given(...delivery, request, failed)
    // Then the request is answered and the message still kept for another retry
    expect(state.requests.size).toBe(0)
    expect(state.lanes.get(laneId)!.retained.get(lane.ids[1]!)).toMatchObject({ how: "failed" })
  })

  it("keeps the messages of a transaction the Inbox refused for their own fault, with the reason", () => {
    const chunks = lane.chunks(0, 6, 3)
    const attempt = lane.submitted(
      attested6.id,
      { action: "commitAndDeliver", ids: batch, tx: 3, nonce: 0 },
      1,
    )
    const refused = lane.failed(
      attempt.id,
      {
        action: "commitAndDeliver",
        ids: batch,
        tx: 3,
        revertData: "0xdeadbeef",
        reason: "MalformedBatch(offset=3)",
      },
      2,
    )
    const state = given(attested6, ...chunks, attempt, refused)
    const held = state.lanes.get(laneId)!
    expect([...held.retained.values()].map((k) => [k.messageId, k.how, k.reason])).toEqual(
      batch.map((id) => [id, "refused", "MalformedBatch(offset=3)"]),
    )
    // Both chunks were proven against the root at 6, which the batch targets: one proof each
    expect(held.retained.get(lane.ids[4]!)!.proofs.map((p) => p.proof)).toEqual([proofOf(4, 6)])
  })
})

describe("skipped messages the Inbox shows failed", () => {
  it("given a batch skipped because another transaction ran it, when the Inbox shows one message failed, then that one is kept for retries and the others are not", () => {
    const chunks = lane.chunks(0, 6, 3)
    const attempt = lane.submitted(
      attested6.id,
      { action: "commitAndDeliver", ids: batch, tx: 4, nonce: 0 },
      1,
    )
    const statuses = batch.map((_, i) => (i === 2 ? "failed" : "delivered") as "failed" | "delivered")
    const skipped = lane.skipped(attempt.id, { action: "commitAndDeliver", ids: batch, statuses }, 2)
    const state = given(attested6, ...chunks, attempt, skipped)
    const held = state.lanes.get(laneId)!
    expect([...held.retained.keys()]).toEqual([lane.ids[2]])
    expect(held.retained.get(lane.ids[2]!)).toMatchObject({ how: "failed" })
    expect(held.retained.get(lane.ids[2]!)!.proofs.length).toBeGreaterThan(0)
  })

  it.each([
    ["failed", true],
    ["delivered", false],
  ] as const)(
    "given a kept message, when a later skip shows it %s, then it is still kept: %s",
    (status, kept) => {
      const request = lane.retryRequested(1, 10)
      const retry = lane.submitted(request.id, { action: "retry", ids: [lane.ids[1]!], tx: 5, nonce: 1 }, 11)
      const skip = lane.skipped(retry.id, { action: "retry", ids: [lane.ids[1]!], statuses: [status] }, 12)
      expect(
        given(...delivery, request, retry, skip)
          .lanes.get(laneId)!
          .retained.has(lane.ids[1]!),
      ).toBe(kept)
    },
  )
})

describe("deciding a retry", () => {
  /** A request for message 1, kept after its delivery failed, looked up: it asks the chain. */
  const keptRequest = () => {
    const request = lane.retryRequested(1, 10)
    return { request, lookup: checkOf(given(...delivery, request), request) }
  }
  const failedState = given(...delivery)
  const root6 = lane.checkpoint(6).root
  const root3 = lane.checkpoint(3).root

  it("retries a failed message with Inbox.retry against a committed root", () => {
    // Given message 1 failed and a request for it
    const { request, lookup } = keptRequest()
    // When the Inbox shows it failed and the root at 3 committed (not the one at 6)
    const decision = decide(request, lookup, "failed", [root3])
    // Then it retries against the root at 3
    expect(decision).toMatchObject({ kind: "retry", message: lane.messages[1] })
    if (decision.kind !== "retry") return
    expect(decision.proof.checkpoint.root).toBe(root3)
    expect(decision.proof.proof).toEqual(proofOf(1, 3))
    // And with the root at 6 committed, it prefers the batch's root
    const preferred = decide(request, lookup, "failed", [root3, root6])
    expect(preferred.kind === "retry" && preferred.proof.checkpoint.root).toBe(root6)
  })

  it("refuses no-committed-root when no root it holds a proof against is committed", () => {
    const { request, lookup } = keptRequest()
    const decision = decide(request, lookup, "failed")
    expect(decision).toMatchObject({ kind: "refuse", reason: "no-committed-root" })
    expect(decision.kind === "refuse" && decision.detail).toContain(`${root6} (count 6)`)
  })

  it("refuses already-delivered when the Inbox shows the nonce delivered, held or forgotten", () => {
    // Given message 1 kept, and message 2 delivered and forgotten below the floor
    const kept = lane.retryRequested(1, 10)
    const forgotten = lane.retryRequested(2, 10)
    const state = given(...delivery, kept, forgotten)
    for (const request of [kept, forgotten]) {
      const lookup = checkOf(state, request)
      const decision = decide(request, lookup, "delivered")
      expect(decision).toMatchObject({ kind: "refuse", reason: "already-delivered" })
    }
    // And a forgotten nonce the Inbox shows failed (another relayer's attempt) has no proof left
    const lookup = checkOf(state, forgotten)
    expect(lookup).toMatchObject({ held: "settled", message: null, proofs: [] })
    expect(decide(forgotten, lookup, "failed", [root6])).toMatchObject({
      kind: "refuse",
      reason: "no-proof",
    })
  })

  it("refuses an unknown message, or one claimed at the wrong nonce, without reading the chain", () => {
    const stranger = MessageId.make(`0x${"ee".repeat(32)}`)
    const unknown = lane.retryRequested(7, 10, stranger)
    const elsewhere = lane.retryRequested(0, 10, lane.ids[1]!)
    const state = given(...delivery, unknown, elsewhere)
    expect(lookupRetry(state, requestOf(state, unknown))).toMatchObject({
      kind: "refuse",
      reason: "unknown-message",
    })
    const wrongNonce = lookupRetry(state, requestOf(state, elsewhere))
    expect(wrongNonce).toMatchObject({ kind: "refuse", reason: "unknown-message" })
    expect(wrongNonce.kind === "refuse" && wrongNonce.detail).toContain("is nonce 1")
  })

  it("refuses in-flight while a transaction carries the message", () => {
    const request = lane.retryRequested(1, 10)
    const state = given(attested6, ...lane.chunks(0, 6, 3), sent, request)
    const lookup = lookupRetry(state, requestOf(state, request))
    expect(lookup).toMatchObject({ kind: "refuse", reason: "in-flight" })
    expect(lookup.kind === "refuse" && lookup.detail).toContain(lane.hashOf(1))
  })

  it("refuses a queued message the pipeline will deliver, but retries one another relayer's attempt failed", () => {
    // Given chunks [6, 8) proven at 8 and not delivered yet
    const request = lane.retryRequested(7, 10)
    const state = given(...delivery, lane.attested(8), ...lane.chunks(6, 8, 2), request)
    const lookup = checkOf(state, request)
    expect(lookup.held).toBe("queued")
    // When the Inbox has not attempted it, Then it is queued
    expect(decide(request, lookup, "none")).toMatchObject({
      kind: "refuse",
      reason: "queued",
    })
    // When the Inbox shows it failed (another relayer delivered it first) and its root is committed, Then retry it
    const root8 = lane.checkpoint(8).root
    const decision = decide(request, lookup, "failed", [root8])
    expect(decision).toMatchObject({ kind: "retry", message: lane.messages[7] })
    expect(decision.kind === "retry" && decision.proof.proof).toEqual(proofOf(7, 8))
  })

  it("retries a message it skipped (another relayer's attempt failed) while its chunk is still held", () => {
    // Given chunk [6, 8) at 8, message 6 skipped (the Inbox had attempted it), message 7 still queued
    const attested8 = lane.attested(8)
    const skip = lane.skipped(attested8.id, { action: "deliver", ids: [lane.ids[6]!] }, 5)
    const request = lane.retryRequested(6, 10)
    const state = given(...delivery, attested8, ...lane.chunks(6, 8, 2), skip, request)
    const lookup = checkOf(state, request)
    expect(lookup).toMatchObject({ held: "settled", message: lane.messages[6] })
    // When the Inbox shows it failed and the root at 8 committed, Then it is retried against it
    const root8 = lane.checkpoint(8).root
    const decision = decide(request, lookup, "failed", [root8])
    expect(decision).toMatchObject({ kind: "retry", message: lane.messages[6] })
    expect(decision.kind === "retry" && decision.proof.proof).toEqual(proofOf(6, 8))
  })

  it("re-drives a kept message the Inbox never attempted with a one-message deliver", () => {
    const { request, lookup } = keptRequest()
    const decision = decide(request, lookup, "none", [root6])
    expect(decision).toMatchObject({ kind: "deliver", message: lane.messages[1] })
  })

  it("answers the oldest request first", () => {
    const later = lane.retryRequested(1, 20)
    const earlier = lane.retryRequested(2, 10)
    expect(pendingRetries(given(...delivery, later, earlier)).map((r) => r.nonce)).toEqual([2, 1])
    expect(failedState.requests.size).toBe(0)
  })
})
