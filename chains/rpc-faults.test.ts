/**
 * The fault tracker of one chain's RPC: what a service logs of a streak of
 * failures, and when it records it (issue 12, part 4). Time is the test's.
 */
import { describe, expect, it } from "vitest"
import { ChainId, RPC_TEXT_MAX, WatcherStalled } from "../schemas/index.ts"
import { jsonLogger } from "../services/runtime/logger.ts"
import { makeFaultTracker, type RpcFault, stallFieldsOf } from "./rpc-faults.ts"

const FAULT: RpcFault = {
  reason: "rpc-unreachable",
  rpc: "http://***:***@rpc.example.com/v2/***",
  what: "reading the finalized head",
  problem: "HTTP request failed.",
}

const trackerAt = (options: { unreachableAfterMs: number; logEveryMs: number }) => {
  const clock = { now: 0 }
  const lines: Array<Record<string, unknown>> = []
  const tracker = makeFaultTracker({
    chainId: 901,
    ...options,
    logger: jsonLogger({ write: (line) => lines.push(JSON.parse(line)) }, "debug"),
    now: () => clock.now,
  })
  return { tracker, clock, lines, messages: () => lines.map((l) => l.msg) }
}

describe("an RPC fault tracker", () => {
  it("given an RPC failing every 6 s for an hour, then it logs the first failure and one summary a minute, never a line per attempt", () => {
    // given
    const { tracker, clock, messages, lines } = trackerAt({
      unreachableAfterMs: 86_400_000,
      logEveryMs: 60_000,
    })
    // when
    for (clock.now = 0; clock.now < 3_600_000; clock.now += 6_000) tracker.failed(FAULT)
    // then: 600 attempts, 60 lines
    expect(messages().filter((m) => m === "RPC failed; trying again")).toHaveLength(1)
    expect(messages().filter((m) => m === "RPC still failing")).toHaveLength(59)
    expect(lines.at(-1)).toMatchObject({ chainId: 901, rpc: FAULT.rpc, attempts: 591, for: "59 min" })
  })

  it("given a streak older than the bound, then it is due for recording until recorded, then never again in that outage", () => {
    const { tracker, clock } = trackerAt({ unreachableAfterMs: 60_000, logEveryMs: 60_000 })
    expect(tracker.failed(FAULT).stalled).toBeNull()
    clock.now = 59_999
    expect(tracker.failed(FAULT).stalled).toBeNull()
    clock.now = 60_000
    const due = tracker.failed(FAULT).stalled
    expect(due).toMatchObject({ since: 0, attempts: 3 })
    // a publish that failed: still due on the next attempt
    clock.now = 66_000
    const again = tracker.failed(FAULT).stalled!
    tracker.stallRecorded(again)
    clock.now = 72_000
    expect(tracker.failed(FAULT).stalled).toBeNull()
  })

  it("given a recorded stall, when the RPC answers, then its recovery is due until recorded, with the attempts in all; a streak never recorded needs none", () => {
    const { tracker, clock, messages } = trackerAt({ unreachableAfterMs: 0, logEveryMs: 60_000 })
    tracker.stallRecorded(tracker.failed(FAULT).stalled!)
    clock.now = 1_000
    tracker.failed(FAULT)
    clock.now = 2_000
    const recovered = tracker.succeeded().recovered!
    expect(recovered).toMatchObject({ since: 0, attempts: 2 })
    expect(tracker.succeeded().recovered).toBe(recovered)
    tracker.recoveryRecorded(recovered)
    expect(tracker.succeeded().recovered).toBeNull()
    expect(messages()).toContain("RPC answering again")

    const quiet = trackerAt({ unreachableAfterMs: 60_000, logEveryMs: 60_000 })
    quiet.tracker.failed(FAULT)
    expect(quiet.tracker.succeeded().recovered).toBeNull()
  })
})

describe("what a stall record keeps of a hostile answer", () => {
  it("given a problem and a URL of 100 KB each, then the record's fields stay within what the schema takes", () => {
    const huge = "x".repeat(100_000)
    const fields = stallFieldsOf({
      since: 0,
      attempts: 1,
      last: { reason: "rpc-invalid", rpc: huge, what: huge, problem: huge },
    })
    for (const text of [fields.rpc, fields.what, fields.problem])
      expect(text.length).toBeLessThanOrEqual(RPC_TEXT_MAX)
    expect(() => new WatcherStalled({ chainId: ChainId.make(901), ...fields })).not.toThrow()
  })
})
