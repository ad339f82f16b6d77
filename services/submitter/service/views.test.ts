import { describe, expect, it } from "vitest"
import { waitFor } from "../../../bus/contract/index.ts"
import { useEmbeddedBusPerTest } from "../../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS } from "../../../topology/index.ts"
import { type LaneService, laneGroup, quietLogger, startLaneService } from "../../runtime/index.ts"
import { makeSubmitterCore, type SubmitterState } from "../core/index.ts"
import { submitter } from "../definition.ts"
import { stateViewsOf } from "./views.ts"

const CHAIN = 902
const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-submitter-views-")

const member = async (): Promise<LaneService<SubmitterState>> =>
  startLaneService({
    bus: bus(),
    service: "submitter",
    instance: String(CHAIN),
    groupId: laneGroup(submitter, { chainId: CHAIN }),
    inputs: submitter.consumes,
    core: makeSubmitterCore(CHAIN),
    logger: quietLogger({ write: () => true }),
  })

describe("the submitter's views of the lane runtime", () => {
  it("given a second member for the same chain, when the partitions are split, then neither is caught up, and the one left is again once it holds them all, with a new epoch", async () => {
    const first = await member()
    const views = stateViewsOf(first, CHAIN)
    await waitFor("the only member caught up", () => first.caughtUp(), { timeoutMs: 10_000 })
    expect(await views.caughtUp()).toBe(true)
    const before = views.epoch()

    const second = await member()
    try {
      const held = () => new Set(first.subscription.assignment().map((tp) => tp.partition)).size
      await waitFor("the partitions split", () => held() < first.partitionCount, { timeoutMs: 10_000 })
      // Each holds part of the lanes: planning from either would miss flights and lanes the other holds.
      expect(await views.caughtUp()).toBe(false)
      expect(await stateViewsOf(second, CHAIN).caughtUp()).toBe(false)
    } finally {
      await second.stop()
    }
    await waitFor("the member left holds every partition again", async () => views.caughtUp(), {
      timeoutMs: 10_000,
    })
    expect(views.epoch()).toBeGreaterThan(before)
    await first.stop()
  })
})
