import { describe, expect, it } from "vitest"
import type { ChainWriter } from "../../../chains/index.ts"
import { type Envelope, makeEnvelope } from "../../../schemas/index.ts"
import { producerOf, quietLogger } from "../../runtime/index.ts"
import { emptySubmitterState } from "../core/index.ts"
import { makeLaneFixture } from "../test/lane-fixture.ts"
import { tickerSettings } from "../test/ticker-settings.ts"
import { makeWriter } from "./writer.ts"

const lane = makeLaneFixture({
  srcChainId: 777,
  outbox: "0x00000000000000000000000000000000000a11ce",
  dstChainId: 902,
  recipient: "0x000000000000000000000000000000000000c0de",
  count: 1,
})

const SUBMITTER = "0x000000000000000000000000000000000000c0fe"

const writerOver = (published: Envelope[]) =>
  makeWriter({
    settings: tickerSettings(),
    // Recording never reads the chain.
    chain: { sender: SUBMITTER } as Partial<ChainWriter> as ChainWriter,
    reader: {
      committedCount: async () => 0,
      attempted: async () => new Set(),
      messageStatus: async () => "none",
      attemptsOf: async () => new Map(),
    },
    views: {
      caughtUp: async () => true,
      expect: () => {},
      current: async () => emptySubmitterState(902),
      epoch: () => 0,
      standby: () => false,
      fence: async () => {},
    },
    publish: async (envelopes) => {
      published.push(...envelopes)
      return envelopes.map((_, offset) => ({ topic: "chorus.deliveries", partition: 0, offset }))
    },
    stamp: (event, cause, time) =>
      makeEnvelope(event, { producer: producerOf("submitter", "902"), causationId: cause, time }),
    logger: quietLogger({ write: () => true }),
  })

describe("the submitter's records", () => {
  it("are stamped no earlier than the request they answer, and never earlier than the previous record", async () => {
    const published: Envelope[] = []
    const w = writerOver(published)
    // Given a request stamped an hour ahead of this clock (its host's clock runs fast)
    const request = lane.retryRequested(0)
    const ahead = Date.now() + 3_600_000
    // When the submitter answers it, then records an outcome without a time floor
    await w.record([{ event: lane.retryRefused(request, "queued").event, cause: request.id }], {
      notBefore: ahead,
    })
    await w.record([{ event: lane.skipped(request.id, { action: "deliver", ids: [] }).event, cause: null }])
    // Then the answer is stamped at the request's time, and the next record not before it
    expect(published.map((e) => Date.parse(e.time))).toEqual([ahead, ahead])
  })

  it("are stamped now when nothing they follow is ahead of the clock", async () => {
    const published: Envelope[] = []
    const w = writerOver(published)
    const before = Date.now()
    w.notBefore(before - 60_000)
    const cause = lane.retryRequested(0).id
    await w.record([{ event: lane.skipped(cause, { action: "deliver", ids: [] }).event, cause }])
    const stamped = Date.parse(published[0]!.time)
    expect(stamped).toBeGreaterThanOrEqual(before)
    expect(stamped).toBeLessThanOrEqual(Date.now())
  })
})
