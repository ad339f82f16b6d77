/**
 * The planner after a halted source chain is resumed (issue 12, part 3):
 * the lane plans again, but a checkpoint counting past the lane's count at
 * the trusted block is used only if attested after the resume, because the
 * messages above that count were observed on the history the rewrite
 * replaced. Given/when/then over the pure planner.
 */
import { describe, expect, it } from "vitest"
import { Address, type Envelope, Hex, Signature } from "../../../schemas/index.ts"
import { DST, submitterCoreFixture } from "../../../test/fixtures/submitter-core.ts"
import { T0 } from "../test/lane-fixture.ts"
import { type LaneWait, type PlannedAction, planActions, type SourceResume } from "./planner.ts"

const { lane, given } = submitterCoreFixture(8)
const CONFIG = { batchSize: 64, windowMs: 0, maxBatchGas: 1_000_000_000 }
/** The resume: 10 s after T0, from block 38, where lane 777 → 902 counted 3. */
const RESUME_AT = T0 + 10_000
const resume =
  (counts: ReadonlyArray<[number, number]> = [[DST, 3]], outbox: string = lane.outbox) =>
  (srcChainId: number): SourceResume | null =>
    srcChainId === 777
      ? {
          at: RESUME_AT,
          block: { number: 38, hash: `0x${"38".repeat(32)}` } as SourceResume["block"],
          outbox,
          counts: new Map(counts),
          by: "alice@ops",
        }
      : null

/** The submitter's record that messages `[from, to)` were delivered. */
const delivered = (from: number, to: number) => {
  const submitted = lane.submitted(lane.attested(to).id, {
    action: "commitAndDeliver",
    ids: lane.ids.slice(from, to),
    tx: 1,
    nonce: 0,
  })
  return [
    submitted,
    lane.confirmed(submitted.id, { action: "commitAndDeliver", ids: lane.ids.slice(from, to), tx: 1 }),
  ]
}

const summary = (action: PlannedAction) =>
  action.kind === "commit"
    ? `commit@${action.checkpoint.count}`
    : `${action.kind}[${action.start},${action.start + action.messages.length})@${action.checkpoint.count}`
const plan = (inputs: ReadonlyArray<Envelope>, resumeOf = resume()) =>
  planActions(given(...inputs), T0 + 60_000, CONFIG, () => null, resumeOf)

describe("planning a lane whose source chain was resumed", () => {
  it("given checkpoints at and past the trusted count attested before the resume, when planning, then what the trusted block covers goes, and the rest waits, saying why in words", () => {
    // Given checkpoints at 3 and 5 attested at T0 + 1 s, and a resume at T0 + 10 s from a block counting 3
    const inputs = [
      lane.attested(3, 1_000),
      ...lane.chunks(0, 3, 3, 1_000),
      lane.attested(5, 1_000),
      ...lane.chunks(3, 5, 2, 1_000),
    ]
    const { actions, waiting } = plan(inputs)
    // Then messages 0..2 go against checkpoint 3, as before the halt, and 3..4 wait
    expect(actions.map(summary)).toEqual(["commitAndDeliver[0,3)@3"])
    expect(waiting).toEqual([])
    const afterFirst = plan([...inputs, lane.rootCommitted(inputs[0]!.id, 3, 1, 2_000), ...delivered(0, 3)])
    expect(afterFirst.actions).toEqual([])
    const [wait] = afterFirst.waiting as [Extract<LaneWait, { kind: "attested-before-resume" }>]
    expect(wait).toMatchObject({ kind: "attested-before-resume", count: 5, trustedCount: 3 })
    expect(wait.reason).toBe(
      `checkpoint #5 (root ${lane.checkpoint(5).root}) was attested at 2026-01-01T00:00:01.000Z, before source chain 777 was resumed from block 38 by alice@ops at 2026-01-01T00:00:10.000Z, where lane 777 → 902 counted 3: messages 3..4 were observed on the history the rewrite replaced and may be gone, so it waits for a checkpoint attested after the resume`,
    )
    // …whereas with no resume on the log all of it goes at once
    expect(planActions(given(...inputs), T0 + 60_000, CONFIG).actions.map(summary)).toEqual([
      "commitAndDeliver[0,5)@5",
    ])
  })

  it("given a root committed before the resume past the trusted count, then committed is not enough: it still waits", () => {
    const attested = lane.attested(5, 1_000)
    const { actions, waiting } = plan([
      attested,
      ...lane.chunks(0, 5, 5, 1_000),
      lane.rootCommitted(attested.id, 5, 1, 2_000),
    ])
    expect(actions).toEqual([])
    expect(waiting.map((w) => w.kind)).toEqual(["attested-before-resume"])
  })

  it("given the stale checkpoint waits, when a later checkpoint is attested after the resume, then one batch up to it carries the earlier chunks too, proven against it", () => {
    const stale = [lane.attested(5, 1_000), ...lane.chunks(0, 5, 5, 1_000)]
    expect(plan(stale).actions).toEqual([])
    // When the re-observed lane is proposed and attested at 7 after the resume
    const { actions } = plan([...stale, lane.attested(7, 20_000), ...lane.chunks(5, 7, 2, 20_000)])
    // Then it delivers 0..6 against checkpoint 7, never against 5
    expect(actions.map(summary)).toEqual(["commitAndDeliver[0,7)@7"])
  })

  it("given the stale checkpoint waits, when the same root is attested again after the resume, then it is trusted again", () => {
    const stale = [lane.attested(5, 1_000), ...lane.chunks(0, 5, 5, 1_000)]
    expect(plan(stale).actions).toEqual([])
    // (a second attestation of the root: another record, with other signers, dated after the resume)
    const again = lane.attested(5, 20_000, [
      ...lane.attested(5).event.signatures,
      new Signature({
        signer: Address.make(`0x${"02".repeat(20)}`),
        signature: Hex.make(`0x${"33".repeat(65)}`),
      }),
    ])
    expect(plan([...stale, again]).actions.map(summary)).toEqual(["commitAndDeliver[0,5)@5"])
  })

  it("given a resume that counted nothing for this lane's outbox (another outbox of the chain), then every checkpoint attested before it waits", () => {
    const { actions, waiting } = plan(
      [lane.attested(3, 1_000), ...lane.chunks(0, 3, 3, 1_000)],
      resume([[DST, 3]], `0x${"99".repeat(20)}`),
    )
    expect(actions).toEqual([])
    expect(waiting).toMatchObject([{ kind: "attested-before-resume", trustedCount: 0 }])
  })

  it("given the source halted again after the resume, then the lane is quarantined whatever the resume said, and a resume lifts it once more", () => {
    const inputs = [lane.attested(5, 1_000), ...lane.chunks(0, 5, 5, 1_000)]
    const halted = planActions(
      given(...inputs),
      T0 + 60_000,
      CONFIG,
      (src) => (src === 777 ? { blockNumber: 50, reason: "rewritten again" } : null),
      resume(),
    )
    expect(halted.actions).toEqual([])
    expect(halted.waiting).toMatchObject([{ kind: "quarantined", blockNumber: 50 }])
    expect(plan(inputs).waiting).toMatchObject([{ kind: "attested-before-resume" }])
  })
})
