import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type EmbeddedBus, openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import type { Envelope } from "../../schemas/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { makeTestLane } from "../lifecycle/testing/lane.ts"
import { T0 } from "../submitter/test/lane-fixture.ts"
import {
  awaitRetryOutcome,
  followRetry,
  InvalidRetryRequestError,
  type RetryRequestInput,
  requestRetry,
  retryRequestOf,
} from "./index.ts"

const lane = makeTestLane(3)
const input: RetryRequestInput = {
  messageId: lane.ids[1]!.toUpperCase().replace("0X", "0x"),
  srcChainId: 777,
  outbox: "0x00000000000000000000000000000000000A11CE",
  dstChainId: 902,
  nonce: 1,
  requestedBy: "alice@ops-1",
  reason: "recipient fixed",
}
const id = lane.ids[1]!

describe("following a retry request (pure)", () => {
  const request = lane.retryRequested(1, 0)
  const unrelated = lane.submitted(
    lane.attested(3).id,
    { action: "deliver", ids: lane.ids, tx: 9, nonce: 3 },
    1,
  )

  it("ends refused with the submitter's reason and detail", () => {
    const refused = lane.retryRefused(request, "already-delivered", 2)
    const progress = followRetry(request, [unrelated, refused])
    expect(progress).toMatchObject({
      kind: "done",
      outcome: { kind: "refused", messageId: id, reason: "already-delivered", detail: "test" },
    })
    expect(progress.kind === "done" && progress.outcome.trail.map((e) => e.type)).toEqual([
      "RetryRequested",
      "RetryRefused",
    ])
  })

  it("follows the retry transaction through a fee-bump replacement to its confirmation", () => {
    const sent = lane.submitted(request.id, { action: "retry", ids: [id], tx: 1, nonce: 4 }, 1)
    const bumped = lane.submitted(sent.id, { action: "retry", ids: [id], tx: 2, nonce: 4, replaces: 1 }, 2)
    const confirmed = lane.confirmed(bumped.id, { action: "retry", ids: [id], tx: 2 }, 3)
    // Given only the submission so far, Then it is in flight
    expect(followRetry(request, [sent, unrelated])).toMatchObject({
      kind: "waiting",
      stage: "in-flight",
      transactionHash: lane.hashOf(1),
    })
    // When the replacement is confirmed, Then it is delivered by the replacement
    expect(followRetry(request, [sent, unrelated, bumped, confirmed])).toMatchObject({
      kind: "done",
      outcome: { kind: "delivered", transactionHash: lane.hashOf(2), blockNumber: 10 },
    })
  })

  it("ends failed when the retry would revert, or its transaction reverted, with the decoded reason", () => {
    const atEstimate = lane.failed(
      request.id,
      { action: "retry", ids: [id], tx: null, revertData: "0x1234", reason: "RetryFailed(messageId=…)" },
      1,
    )
    expect(followRetry(request, [atEstimate])).toMatchObject({
      kind: "done",
      outcome: {
        kind: "failed",
        reason: "RetryFailed(messageId=…)",
        revertData: "0x1234",
        transactionHash: null,
      },
    })
    const sent = lane.submitted(request.id, { action: "deliver", ids: [id], tx: 1, nonce: 4 }, 1)
    const ran = lane.confirmed(sent.id, { action: "deliver", ids: [id], tx: 1, results: ["failed"] }, 2)
    expect(followRetry(request, [sent, ran])).toMatchObject({
      kind: "done",
      outcome: { kind: "failed", reason: "the recipient reverted", transactionHash: lane.hashOf(1) },
    })
  })

  describe("when another transaction attempted the message first (the submitter skipped it)", () => {
    const sent = lane.submitted(request.id, { action: "deliver", ids: [id], tx: 1, nonce: 4 }, 1)
    const skippedAs = (status: "delivered" | "failed" | "unknown") =>
      lane.skipped(sent.id, { action: "deliver", ids: [id], statuses: [status] }, 2)

    it("given the Inbox showed it delivered, then the retry ends delivered, by no transaction of its own", () => {
      expect(followRetry(request, [sent, skippedAs("delivered")])).toMatchObject({
        kind: "done",
        outcome: {
          kind: "delivered",
          messageId: id,
          transactionHash: null,
          blockNumber: null,
          detail: "already delivered; the Inbox shows it delivered",
        },
      })
    })

    it("given the Inbox showed it failed, then the retry ends failed, saying the Inbox shows it failed", () => {
      expect(followRetry(request, [sent, skippedAs("failed")])).toMatchObject({
        kind: "done",
        outcome: {
          kind: "failed",
          messageId: id,
          reason:
            "another transaction attempted it first and the Inbox shows it failed (its recipient reverted); already delivered",
          revertData: null,
          transactionHash: null,
        },
      })
    })

    it("given the Inbox status is unknown (an older record), then the retry ends failed, saying to trace it", () => {
      const progress = followRetry(request, [sent, skippedAs("unknown")])
      expect(progress).toMatchObject({ kind: "done", outcome: { kind: "failed", messageId: id } })
      const outcome = progress.kind === "done" ? progress.outcome : undefined
      expect(outcome?.kind === "failed" && outcome.reason).toBe(
        "another transaction attempted it first and its Inbox status is unknown (not recorded; already delivered): " +
          `trace it with \`chorus trace ${id}\` and check Inbox.messageStatus on chain 902 before requesting another retry`,
      )
      expect(outcome?.trail.map((e) => e.type)).toEqual([
        "RetryRequested",
        "DeliverySubmitted",
        "DeliverySkipped",
      ])
    })

    it("given a skip of a batch, then the status is the one paired with the requested message", () => {
      const batch = lane.skipped(
        sent.id,
        {
          action: "deliver",
          ids: [lane.ids[0]!, id, lane.ids[2]!],
          statuses: ["delivered", "failed", "delivered"],
        },
        2,
      )
      expect(followRetry(request, [sent, batch])).toMatchObject({
        kind: "done",
        outcome: { kind: "failed", messageId: id },
      })
    })
  })

  it("waits, unanswered, while nothing is caused by the request", () => {
    expect(followRetry(request, [unrelated])).toMatchObject({ kind: "waiting", stage: "unanswered" })
  })
})

describe("requestRetry and awaitRetryOutcome on a bus", () => {
  let dir: string
  let bus: EmbeddedBus
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "chorus-retry-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(ALL_TOPICS)
  })
  afterEach(async () => {
    await bus.close()
    await rm(dir, { recursive: true, force: true })
  })

  const requests = async (): Promise<Envelope[]> => {
    const out: Envelope[] = []
    for await (const read of readEvents(bus, { topic: TOPICS.commandsRetry.name, from: "earliest" })) {
      if (!read.ok) throw read.error
      out.push(read.envelope)
      expect(read.record.partition).toBe(partitionForKey("777-902", 6))
    }
    return out
  }

  it("publishes the request under its lane, lowercased, correlated with the message", async () => {
    const request = await requestRetry(bus, input, { now: new Date(T0) })
    expect(request).toMatchObject({
      type: "RetryRequested",
      key: "777-902",
      correlationId: id,
      causationId: null,
    })
    expect(request.event).toMatchObject({
      messageId: id,
      lane: { outbox: "0x00000000000000000000000000000000000a11ce" },
      requestedBy: "alice@ops-1",
      reason: "recipient fixed",
      requestedAt: "2026-01-01T00:00:00.000Z",
    })
    expect(request.producer).toMatchObject({ service: "retry", instance: "alice@ops-1" })
    // And a second request for the same message, later, is a new event
    const again = await requestRetry(bus, input, { now: new Date(T0 + 1) })
    expect(again.id).not.toBe(request.id)
    expect((await requests()).map((e) => e.id)).toEqual([request.id, again.id])
  })

  it("refuses bad fields by name and publishes nothing", async () => {
    const bad = { ...input, messageId: "0x12", nonce: -1, requestedBy: "", srcChainId: 0 }
    expect(() => retryRequestOf(bad, new Date(T0))).toThrow(InvalidRetryRequestError)
    await expect(requestRetry(bus, bad)).rejects.toThrow(
      /^invalid retry request \(4 problems\):\n {2}- messageId: .+\n {2}- srcChainId: .+\n {2}- nonce: .+\n {2}- requestedBy: .+\nNothing was published/,
    )
    expect(await requests()).toEqual([])
  })

  it("given Effect code, when it fails with a bad request, then catchTag recovers its issues", async () => {
    const bad = { ...input, nonce: -1 }
    const issues = await Effect.runPromise(
      Effect.try({
        try: () => retryRequestOf(bad, new Date(T0)),
        catch: (e) => e as InvalidRetryRequestError,
      }).pipe(
        Effect.catchTag("InvalidRetryRequestError", (e) => Effect.succeed(e.issues.map((i) => i.path))),
      ),
    )
    expect(issues).toEqual(["nonce"])
  })

  it("returns the answer the submitter publishes while it waits", async () => {
    const request = await requestRetry(bus, input, { now: new Date(T0) })
    // Given unrelated records before the answer, and the answer published 150 ms into the wait
    await publishEvents(bus, [lane.attested(3, 1), lane.retryRefused(lane.retryRequested(2, 0), "queued", 1)])
    const answer = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 150))
      const sent = lane.submitted(request.id, { action: "retry", ids: [id], tx: 1, nonce: 0 }, 2)
      await publishEvents(bus, [sent, lane.confirmed(sent.id, { action: "retry", ids: [id], tx: 1 }, 3)])
    })()
    const outcome = await awaitRetryOutcome(bus, request, {
      timeoutMs: 10_000,
      pollIntervalMs: 20,
    })
    await answer
    expect(outcome).toMatchObject({ kind: "delivered", transactionHash: lane.hashOf(1) })
    expect(outcome.trail.map((e) => e.type)).toEqual([
      "RetryRequested",
      "DeliverySubmitted",
      "DeliveryConfirmed",
    ])
  })

  it("times out saying how far the request got", async () => {
    const request = await requestRetry(bus, input, { now: new Date(T0) })
    const unanswered = await awaitRetryOutcome(bus, request, { timeoutMs: 100, pollIntervalMs: 20 })
    expect(unanswered).toMatchObject({ kind: "timeout", messageId: id })
    expect(unanswered.kind === "timeout" && unanswered.detail).toMatch(
      /no answer from the submitter of chain 902/,
    )
    await publishEvents(bus, [lane.submitted(request.id, { action: "retry", ids: [id], tx: 1, nonce: 0 }, 1)])
    const inFlight = await awaitRetryOutcome(bus, request, { timeoutMs: 50, pollIntervalMs: 20 })
    expect(inFlight.kind === "timeout" && inFlight.detail).toMatch(
      /sent transaction 0x0+1, which has no outcome yet/,
    )
    await expect(awaitRetryOutcome(bus, request, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs is -1/)
  })
})
