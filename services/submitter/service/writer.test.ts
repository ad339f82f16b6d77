import { describe, expect, it } from "vitest"
import { fakeLane, writerOver } from "../test/fake-writer.ts"

const lane = fakeLane(1)

describe("the submitter's records", () => {
  it("are stamped no earlier than the request they answer, and never earlier than the previous record", async () => {
    const { w, published } = writerOver({ statuses: {} })
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
    const { w, published } = writerOver({ statuses: {} })
    const before = Date.now()
    w.notBefore(before - 60_000)
    const cause = lane.retryRequested(0).id
    await w.record([{ event: lane.skipped(cause, { action: "deliver", ids: [] }).event, cause }])
    const stamped = Date.parse(published[0]!.time)
    expect(stamped).toBeGreaterThanOrEqual(before)
    expect(stamped).toBeLessThanOrEqual(Date.now())
  })
})
