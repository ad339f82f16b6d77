import { encodeErrorResult } from "viem"
import { describe, expect, it } from "vitest"
import { inboxAbi, verifyRangeProof } from "../../../contracts/index.ts"
import { Address, type Envelope, Hex, Signature } from "../../../schemas/index.ts"
import { DST, submitterCoreFixture } from "../../../test/fixtures/submitter-core.ts"
import { asHex, asHexes, makeLaneFixture, T0 } from "../test/lane-fixture.ts"
import { type DeliverAction, type PlannedAction, type PlannerConfig, planActions } from "./planner.ts"

/** A gas budget no test batch reaches, unless a test sets its own. */
const GAS = 1_000_000_000

const { lane, given } = submitterCoreFixture(9)

const summary = (action: PlannedAction) =>
  action.kind === "commit"
    ? `commit@${action.checkpoint.count}`
    : `${action.kind}[${action.start},${action.start + action.messages.length})@${action.checkpoint.count}`

const plan = (
  inputs: ReadonlyArray<Envelope>,
  config: PlannerConfig = { batchSize: 64, windowMs: 0, maxBatchGas: GAS },
  now = T0,
) => planActions(given(...inputs), now, config)

describe("planActions", () => {
  it("commits an attested root, then delivers its chunks against it", () => {
    // Given a checkpoint of 4 messages, attested, proven in two chunks of 2, and batches of 2
    const inputs = [lane.attested(4), ...lane.chunks(0, 4, 2)]
    // When planning
    const { actions } = plan(inputs, { batchSize: 2, windowMs: 0, maxBatchGas: GAS })
    // Then the root is committed first, and each chunk is delivered after it
    expect(actions.map(summary)).toEqual(["commit@4", "deliver[0,2)@4", "deliver[2,4)@4"])
    expect(actions[0]!.origin).toBe(inputs[0]!.id)
    expect(actions[1]!.origin).toBe(inputs[1]!.id)

    // Given the root was committed
    const afterCommit = [...inputs, lane.rootCommitted(inputs[0]!.id, 4, 1, 1)]
    // Then only the deliveries remain
    expect(plan(afterCommit, { batchSize: 2, windowMs: 0, maxBatchGas: GAS }).actions.map(summary)).toEqual([
      "deliver[0,2)@4",
      "deliver[2,4)@4",
    ])
  })

  it("uses commitAndDeliver when a checkpoint's only new work is a single chunk", () => {
    // Given a checkpoint of 3 messages proven in one chunk
    const attested = lane.attested(3)
    const [chunk] = lane.chunks(0, 3, 32)
    // When planning
    const { actions } = plan([attested, chunk!])
    // Then one transaction commits and delivers, caused by the attestation
    expect(actions.map(summary)).toEqual(["commitAndDeliver[0,3)@3"])
    const action = actions[0] as DeliverAction
    expect(action.origin).toBe(attested.id)
    expect(action.signatures).toEqual(attested.event.signatures)
    expect(action.messageIds).toEqual(lane.ids.slice(0, 3))
  })

  it("delivers proofs of a chunk only once an attested checkpoint covers it", () => {
    // Given a chunk whose checkpoint is not attested
    const inputs = lane.chunks(0, 3, 32)
    // Then nothing is planned, and the lane waits for an attestation
    const result = plan(inputs)
    expect(result.actions).toEqual([])
    expect(result.waiting).toEqual([{ kind: "unattested", laneId: expect.any(String), messages: 3 }])
  })

  it("closes a batch by size: batchSize ready messages go at once, in one proof", () => {
    // Given two chunks of 2 under an attested checkpoint, a long window and batches of 4
    const inputs = [lane.attested(4), ...lane.chunks(0, 4, 2)]
    // When planning right away
    const { actions } = plan(inputs, { batchSize: 4, windowMs: 60_000, maxBatchGas: GAS })
    // Then the four messages go in one transaction whose joined proof checks out against the root
    expect(actions.map(summary)).toEqual(["commitAndDeliver[0,4)@4"])
    const action = actions[0] as DeliverAction
    expect(
      verifyRangeProof({
        root: asHex(action.checkpoint.root),
        start: 0,
        count: 4,
        leaves: asHexes(action.messageIds),
        siblings: asHexes(action.proof),
      }),
    ).toBe(true)

    // But with batches of 5 the same messages wait for the window
    const waiting = plan(inputs, { batchSize: 5, windowMs: 60_000, maxBatchGas: GAS })
    expect(waiting.actions).toEqual([])
    expect(waiting.waiting).toEqual([
      { kind: "window", laneId: expect.any(String), messages: 4, closesAt: T0 + 60_000 },
    ])
  })

  it("closes a batch by time: windowMs after its oldest ready message arrived", () => {
    // Given one message proven at +100 ms and attested at +200 ms (ready at +200 ms), and a 500 ms window
    const inputs = [lane.proven(0, 1, 1, 100), lane.attested(1, 200)]
    const config = { batchSize: 64, windowMs: 500, maxBatchGas: GAS }
    // When planning just before the window closes, nothing goes
    expect(plan(inputs, config, T0 + 699).actions).toEqual([])
    expect(plan(inputs, config, T0 + 699).waiting[0]).toMatchObject({ kind: "window", closesAt: T0 + 700 })
    // Then at the window's end, the batch goes
    expect(plan(inputs, config, T0 + 700).actions.map(summary)).toEqual(["commitAndDeliver[0,1)@1"])
  })

  it("batches across checkpoints: one commit of the latest root covers earlier chunks", () => {
    // Given checkpoints at 3 and 7, both attested, proven in chunks of 2, and batches of 5
    const inputs = [lane.attested(3), ...lane.chunks(0, 3, 2), lane.attested(7), ...lane.chunks(3, 7, 2)]
    // When planning
    const { actions } = plan(inputs, { batchSize: 5, windowMs: 0, maxBatchGas: GAS })
    // Then the root at 7 is committed once, and [0, 5) is delivered against it, then [5, 7)
    expect(actions.map(summary)).toEqual(["commit@7", "deliver[0,5)@7", "deliver[5,7)@7"])
    for (const action of actions.slice(1) as DeliverAction[]) {
      expect(
        verifyRangeProof({
          root: asHex(action.checkpoint.root),
          start: action.start,
          count: 7,
          leaves: asHexes(action.messageIds),
          siblings: asHexes(action.proof),
        }),
      ).toBe(true)
    }
  })

  it("never plans work in flight twice, and resumes after it in nonce order", () => {
    // Given a committed checkpoint of 4 messages in two chunks, the first being delivered
    const attested = lane.attested(4)
    const [first, second] = lane.chunks(0, 4, 2)
    const submitted = lane.submitted(
      first!.id,
      { action: "deliver", ids: lane.ids.slice(0, 2), tx: 7, nonce: 3 },
      5,
    )
    const inputs = [attested, first!, second!, lane.rootCommitted(attested.id, 4, 1, 1), submitted]
    // When planning
    const { actions } = plan(inputs, { batchSize: 2, windowMs: 0, maxBatchGas: GAS })
    // Then only the second chunk is planned
    expect(actions.map(summary)).toEqual(["deliver[2,4)@4"])

    // And a fee-bump replacement of the flight does not free it either
    const replacement = lane.submitted(
      submitted.id,
      { action: "deliver", ids: lane.ids.slice(0, 2), tx: 8, nonce: 3, replaces: 7 },
      6,
    )
    expect(
      plan([...inputs, replacement], { batchSize: 2, windowMs: 0, maxBatchGas: GAS }).actions.map(summary),
    ).toEqual(["deliver[2,4)@4"])
  })

  it("never plans a commit of a root whose commit is in flight; its chunks wait for it", () => {
    // Given a commit in flight for the checkpoint at 4
    const attested = lane.attested(4)
    const inputs = [
      attested,
      ...lane.chunks(0, 4, 2),
      lane.submitted(attested.id, { action: "commit", ids: [], tx: 1, nonce: 0 }),
    ]
    // Then nothing is planned until it lands
    const result = plan(inputs, { batchSize: 2, windowMs: 0, maxBatchGas: GAS })
    expect(result.actions).toEqual([])
    expect(result.waiting).toEqual([
      { kind: "root-in-flight", laneId: expect.any(String), root: attested.event.checkpoint.root },
    ])
  })

  it("excludes delivered, failed and skipped messages", () => {
    // Given three single-message checkpoints, the first confirmed (one recipient failure), the second skipped
    const a1 = lane.attested(1)
    const a2 = lane.attested(2)
    const a3 = lane.attested(3)
    const [p1] = lane.chunks(0, 1, 1)
    const [p2] = lane.chunks(1, 2, 1)
    const [p3] = lane.chunks(2, 3, 1)
    const sub1 = lane.submitted(a1.id, { action: "commitAndDeliver", ids: [lane.ids[0]!], tx: 1, nonce: 0 })
    const inputs = [
      a1,
      p1!,
      a2,
      p2!,
      a3,
      p3!,
      sub1,
      lane.confirmed(sub1.id, {
        action: "commitAndDeliver",
        ids: [lane.ids[0]!],
        tx: 1,
        results: ["failed"],
      }),
      lane.skipped(p2!.id, { action: "deliver", ids: [lane.ids[1]!] }),
    ]
    // When planning
    const state = given(...inputs)
    const { actions } = planActions(state, T0, { batchSize: 64, windowMs: 0, maxBatchGas: GAS })
    // Then only the third message is planned, and the settled ones are forgotten
    expect(actions.map(summary)).toEqual(["commitAndDeliver[2,3)@3"])
    const held = [...state.lanes.values()][0]!
    expect([...held.chunks.keys()]).toEqual([2])
    expect(held.floor).toBe(2)
  })

  it("parks work the Inbox refused, and requeues work whose transaction never landed", () => {
    const attested = lane.attested(2)
    const [chunk] = lane.chunks(0, 2, 2)
    const sub = lane.submitted(attested.id, {
      action: "commitAndDeliver",
      ids: lane.ids.slice(0, 2),
      tx: 1,
      nonce: 0,
    })
    // Given the Inbox refused the transaction (revert data recorded)
    const refused = lane.failed(sub.id, {
      action: "commitAndDeliver",
      ids: lane.ids.slice(0, 2),
      tx: 1,
      revertData: "0x12345678",
    })
    // Then nothing is planned again
    expect(plan([attested, chunk!, sub, refused]).actions).toEqual([])
    // Given instead the transaction never landed (no revert data)
    const lost = lane.failed(sub.id, {
      action: "commitAndDeliver",
      ids: lane.ids.slice(0, 2),
      tx: 1,
      revertData: null,
    })
    // Then the work is planned again
    expect(plan([attested, chunk!, sub, lost]).actions.map(summary)).toEqual(["commitAndDeliver[0,2)@2"])
  })

  it("plans again, once, a batch whose included transaction ran short of gas; a second shortfall parks it", () => {
    const attested = lane.attested(2)
    const [chunk] = lane.chunks(0, 2, 2)
    const ids = lane.ids.slice(0, 2)
    const shortOfGas = encodeErrorResult({
      abi: inboxAbi,
      errorName: "InsufficientGas",
      args: [1, 200_000n, 90_000n],
    })
    const sent = (cause: Envelope, tx: number, nonce: number) =>
      lane.submitted(cause.id, { action: "commitAndDeliver", ids, tx, nonce })
    const first = sent(attested, 1, 0)
    const short = (submission: Envelope, tx: number) =>
      lane.failed(submission.id, { action: "commitAndDeliver", ids, tx, revertData: shortOfGas })
    // Given a batch estimated before the transactions ahead of it landed, and short of gas when it ran
    const once = [attested, chunk!, first, short(first, 1)]
    // Then it is planned again, to be estimated on the chain as it is now
    expect(plan(once).actions.map(summary)).toEqual(["commitAndDeliver[0,2)@2"])
    // Given it ran short again
    const second = sent(attested, 2, 1)
    // Then its messages are parked, as any the Inbox refuses
    expect(plan([...once, second, short(second, 2)]).actions).toEqual([])
    // …as it is when the transaction ran out of gas with no revert data at all (planned again, then parked)
    const outOfGas = (submission: Envelope, tx: number) =>
      lane.failed(submission.id, { action: "commitAndDeliver", ids, tx, revertData: "0x" })
    expect(plan([attested, chunk!, first, outOfGas(first, 1)]).actions.map(summary)).toEqual([
      "commitAndDeliver[0,2)@2",
    ])
    expect(plan([attested, chunk!, first, outOfGas(first, 1), second, outOfGas(second, 2)]).actions).toEqual(
      [],
    )
    // …while a shortfall at the estimate (no transaction) parks them at once, as before
    const atEstimate = lane.failed(attested.id, {
      action: "commitAndDeliver",
      ids,
      tx: null,
      revertData: shortOfGas,
    })
    expect(plan([attested, chunk!, atEstimate]).actions).toEqual([])
  })

  it("parks a root the Inbox refused to commit until it is attested again", () => {
    // Given a commit of the checkpoint at 4 refused by the Inbox at estimation (no transaction)
    const attested = lane.attested(4)
    const inputs = [
      attested,
      ...lane.chunks(0, 4, 2),
      lane.failed(attested.id, { action: "commit", ids: [], tx: null, revertData: "0x12345678" }),
    ]
    // Then its chunks wait, and say why
    const blocked = plan(inputs, { batchSize: 2, windowMs: 0, maxBatchGas: GAS })
    expect(blocked.actions).toEqual([])
    expect(blocked.waiting).toEqual([
      {
        kind: "root-refused",
        laneId: expect.any(String),
        root: attested.event.checkpoint.root,
        reason: "test",
      },
    ])
    // When the checkpoint is attested again (say, by the new operator set: other signatures)
    const again = lane.attested(4, 100, [
      new Signature({
        signer: Address.make(`0x${"02".repeat(20)}`),
        signature: Hex.make(`0x${"33".repeat(65)}`),
      }),
    ])
    // Then it is committed again
    expect(
      plan([...inputs, again], { batchSize: 2, windowMs: 0, maxBatchGas: GAS }, T0 + 100).actions.map(
        summary,
      ),
    ).toEqual(["commit@4", "deliver[0,2)@4", "deliver[2,4)@4"])
  })

  it("refuses the root, not the messages, when the Inbox refuses a commitAndDeliver's quorum", () => {
    // Given a commitAndDeliver refused at estimation with InsufficientStake
    const attested = lane.attested(2)
    const stake = encodeErrorResult({ abi: inboxAbi, errorName: "InsufficientStake", args: [1n, 3n] })
    const inputs = [
      attested,
      ...lane.chunks(0, 2, 2),
      lane.failed(attested.id, {
        action: "commitAndDeliver",
        ids: lane.ids.slice(0, 2),
        tx: null,
        revertData: stake,
      }),
    ]
    // Then the messages wait for a new attestation rather than being parked
    expect(plan(inputs).waiting).toMatchObject([
      { kind: "root-refused", root: attested.event.checkpoint.root },
    ])
    const again = lane.attested(2, 100, [
      new Signature({
        signer: Address.make(`0x${"02".repeat(20)}`),
        signature: Hex.make(`0x${"33".repeat(65)}`),
      }),
    ])
    expect(plan([...inputs, again], undefined, T0 + 100).actions.map(summary)).toEqual([
      "commitAndDeliver[0,2)@2",
    ])
  })

  it("given a commitAndDeliver refused because the Inbox left the epoch its quorum signed under (EpochLeft), then the root waits for the signatures under the new epoch and the messages are not parked; one not reached yet (EpochNotReached) is tried again as it is", () => {
    const attested = lane.attested(2)
    const refusedWith = (errorName: "EpochLeft" | "EpochNotReached") => [
      attested,
      ...lane.chunks(0, 2, 2),
      lane.failed(attested.id, {
        action: "commitAndDeliver",
        ids: lane.ids.slice(0, 2),
        tx: null,
        revertData: encodeErrorResult({ abi: inboxAbi, errorName, args: [1n, 2n] }),
      }),
    ]
    // EpochLeft: the root is refused, its messages wait for the collector's new attestation under epoch 2
    const left = refusedWith("EpochLeft")
    expect(plan(left).waiting).toMatchObject([{ kind: "root-refused", root: attested.event.checkpoint.root }])
    const resigned = lane.attested(2, 100, [
      new Signature({
        signer: Address.make(`0x${"02".repeat(20)}`),
        signature: Hex.make(`0x${"33".repeat(65)}`),
      }),
    ])
    expect(plan([...left, resigned], undefined, T0 + 100).actions.map(summary)).toEqual([
      "commitAndDeliver[0,2)@2",
    ])
    // EpochNotReached: nothing is refused, the same work goes again (its update lands first)
    expect(plan(refusedWith("EpochNotReached")).actions.map(summary)).toEqual(["commitAndDeliver[0,2)@2"])
  })

  it("ignores other destinations and single proofs (kept for retries)", () => {
    const other = makeLaneFixture({
      srcChainId: 777,
      outbox: "0x00000000000000000000000000000000000a11ce",
      dstChainId: 903,
      recipient: "0x000000000000000000000000000000000000c0de",
      count: 2,
    })
    const inputs = [
      other.attested(2),
      ...other.chunks(0, 2, 2),
      lane.attested(1),
      lane.proven(0, 1, 1, 0, "single"),
    ]
    const state = given(...inputs)
    expect(planActions(state, T0, { batchSize: 64, windowMs: 0, maxBatchGas: GAS }).actions).toEqual([])
    expect([...state.lanes.values()].every((l) => l.lane.dstChainId === DST && l.chunks.size === 0)).toBe(
      true,
    )
  })

  it("orders lanes by their oldest ready message", () => {
    const late = makeLaneFixture({
      srcChainId: 778,
      outbox: "0x00000000000000000000000000000000000b0b00",
      dstChainId: DST,
      recipient: "0x000000000000000000000000000000000000c0de",
      count: 1,
    })
    const inputs = [
      late.attested(1, 0),
      late.proven(0, 1, 1, 0),
      lane.attested(1, -50),
      lane.proven(0, 1, 1, -100),
    ]
    const { actions } = plan(inputs)
    expect(actions.map((a) => a.lane.srcChainId)).toEqual([777, 778])
  })

  describe("the part of a batch to send", () => {
    const verifies = (action: DeliverAction) =>
      verifyRangeProof({
        root: asHex(action.checkpoint.root),
        start: action.start,
        count: action.checkpoint.count,
        leaves: asHexes(action.messageIds),
        siblings: asHexes(action.proof),
      })

    it("given messages whose gas limits exceed the budget together, then a batch stops short of the budget, splitting a chunk, with a proof of the part", () => {
      // Given one chunk of 7 messages of 200,000 gas each, and a budget of 500,000
      const inputs = [lane.attested(7), ...lane.chunks(0, 7, 7)]
      const { actions } = plan(inputs, { batchSize: 64, windowMs: 0, maxBatchGas: 500_000 })
      // Then only the first two go, against the checkpoint at 7, and nothing is planned behind the part
      expect(actions.map(summary)).toEqual(["commitAndDeliver[0,2)@7"])
      expect(verifies(actions[0] as DeliverAction)).toBe(true)
    })

    it("given a budget below one message's gas limit, then that message goes alone", () => {
      const { actions } = plan([lane.attested(3), ...lane.chunks(0, 3, 3)], {
        batchSize: 64,
        windowMs: 0,
        maxBatchGas: 100_000,
      })
      expect(actions.map(summary)).toEqual(["commitAndDeliver[0,1)@3"])
    })

    it("given a message refused alone in the middle of a chunk, then the messages before it and after it go without it", () => {
      // Given one chunk of 5 under a committed root, and message 2 refused alone (the chain could never give it its gas)
      const attested = lane.attested(5)
      const [chunk] = lane.chunks(0, 5, 5)
      const committed = lane.rootCommitted(attested.id, 5, 1, 1)
      const refused = lane.failed(chunk!.id, {
        action: "deliver",
        ids: [lane.ids[2]!],
        tx: null,
        revertData: encodeErrorResult({
          abi: inboxAbi,
          errorName: "InsufficientGas",
          args: [2, 40_000_000n, 29_000_000n],
        }),
      })
      const { actions } = plan([attested, chunk!, committed, refused])
      // Then [0, 2) goes first, and nothing after it until it settles
      expect(actions.map(summary)).toEqual(["deliver[0,2)@5"])
      expect(verifies(actions[0] as DeliverAction)).toBe(true)
      // When [0, 2) is delivered, then [3, 5) goes, proven against the same root
      const sent = lane.submitted(
        chunk!.id,
        { action: "deliver", ids: lane.ids.slice(0, 2), tx: 2, nonce: 1 },
        2,
      )
      const landed = lane.confirmed(sent.id, { action: "deliver", ids: lane.ids.slice(0, 2), tx: 2 }, 3)
      const after = plan([attested, chunk!, committed, refused, sent, landed])
      expect(after.actions.map(summary)).toEqual(["deliver[3,5)@5"])
      expect(verifies(after.actions[0] as DeliverAction)).toBe(true)
    })
  })
})
