/**
 * The lifecycle projection on its own: what each event of the catalog
 * implies for the messages and checkpoints it concerns, which stages are
 * terminal, and that folding the marks gives the furthest stage whatever
 * order the events are read in.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  Address,
  AttestationSigned,
  BlockRef,
  Bytes32,
  CheckpointProposed,
  type ChorusEvent,
  EVENT_TYPES,
  type EventType,
  Hex,
} from "../../schemas/index.ts"
import { events as arbitraryEvents } from "../../schemas/testing/arbitraries.ts"
import {
  covers,
  evolve,
  furthest,
  isTerminal,
  type Lifecycle,
  laneIdOf,
  type Mark,
  marksOf,
  messageStagesOf,
  rankOf,
  STAGES,
  type Stage,
  stageOfLifecycle,
  stageOfRank,
  TERMINAL_STAGES,
  UnknownLifecycleEventError,
} from "./index.ts"
import { makeTestLane } from "./testing/lane.ts"

const lane = makeTestLane(4)
const [id0, id1, id2] = [lane.ids[0]!, lane.ids[1]!, lane.ids[2]!]
const block = new BlockRef({ number: 5, hash: Bytes32.make(`0x${"aa".repeat(32)}`) })
const cause = lane.attested(4).id

const observed = (nonce: number) => lane.observed(nonce).event
const proposed = (count: number) =>
  new CheckpointProposed({ checkpoint: lane.checkpoint(count), previousCount: 0, block })
const signed = (count: number) =>
  new AttestationSigned({
    checkpoint: lane.checkpoint(count),
    epoch: 1,
    digest: Bytes32.make(`0x${"11".repeat(32)}`),
    operator: Address.make(`0x${"0e".repeat(20)}`),
    signature: Hex.make("0x1234"),
  })

const onMessage = (messageId: string, stage: Stage): Mark => ({ on: "message", messageId, stage }) as Mark
const onCheckpoint = (count: number, stage: Stage): Mark => ({
  on: "checkpoint",
  lane: { srcChainId: 777, outbox: lane.outbox, dstChainId: 902 },
  count,
  stage,
})

/**
 * Which event types may imply each stage; typed against the stages, and every catalog type not named here must
 * imply nothing.
 */
const IMPLIED_BY = {
  observed: ["MessageObserved"],
  proven: ["MessageProven"],
  proposed: ["CheckpointProposed"],
  signed: ["AttestationSigned"],
  attested: ["CheckpointAttested"],
  committed: ["RootCommitted", "DeliveryConfirmed"],
  submitted: ["DeliverySubmitted"],
  failed: ["DeliveryConfirmed", "DeliverySkipped"],
  delivered: ["DeliveryConfirmed", "DeliverySkipped"],
} as const satisfies Record<Stage, ReadonlyArray<EventType>>

const stagesImpliedBy = (type: EventType): ReadonlyArray<Stage> =>
  STAGES.filter((stage) => (IMPLIED_BY[stage] as ReadonlyArray<EventType>).includes(type))

describe("the lifecycle's stages", () => {
  it("given the stages, then they rank in pipeline order and a rank gives its stage back", () => {
    expect(STAGES.map(rankOf)).toEqual(STAGES.map((_, i) => i + 1))
    for (const stage of STAGES) expect(stageOfRank(rankOf(stage))).toBe(stage)
    expect(stageOfRank(0)).toBeUndefined()
  })

  it("given the terminal stages, then they are delivered and failed, ranked above every other, delivered last", () => {
    expect([...TERMINAL_STAGES].sort()).toEqual(["delivered", "failed"])
    const lowestTerminal = Math.min(...TERMINAL_STAGES.map(rankOf))
    for (const stage of STAGES) expect(isTerminal(stage), stage).toBe(rankOf(stage) >= lowestTerminal)
    expect(STAGES.at(-1)).toBe("delivered")
  })

  it("given some stages, when the furthest is taken, then it is the highest ranked", () => {
    expect(furthest(["failed", "committed", "delivered", "observed"])).toBe("delivered")
    expect(furthest(["submitted", "failed"])).toBe("failed")
    expect(furthest([])).toBeUndefined()
  })
})

describe("what each event implies", () => {
  describe("every event type of the catalog", () => {
    it("given the catalog, then there is an arbitrary event of each of its types", () => {
      expect(Object.keys(arbitraryEvents).sort()).toEqual([...EVENT_TYPES].sort())
    })

    for (const type of EVENT_TYPES) {
      it(`given any ${type}, when it is projected, then it is handled and implies only what its type may`, () => {
        const may = stagesImpliedBy(type)
        fc.assert(
          fc.property(arbitraryEvents[type] as fc.Arbitrary<ChorusEvent>, (event) => {
            for (const mark of marksOf(event)) {
              expect(may).toContain(mark.stage)
              // A message mark names a message of the event; a checkpoint mark is the event's own checkpoint.
              if (mark.on === "message") expect(JSON.stringify(event)).toContain(mark.messageId)
              else expect("checkpoint" in event && mark.count === event.checkpoint.count).toBe(true)
            }
          }),
          { numRuns: 25 },
        )
      })
    }

    it("given something that is not a catalog event, when it is projected, then it is refused by name", () => {
      const stray = { _tag: "DeadLetter" } as unknown as ChorusEvent
      expect(() => marksOf(stray)).toThrow(UnknownLifecycleEventError)
      expect(() => marksOf(stray)).toThrow("no lifecycle rule for event type DeadLetter")
    })
  })

  describe("messages and checkpoints", () => {
    it("given an observation and a proof, then the messages they name are observed and proven", () => {
      expect(marksOf(observed(0))).toEqual([onMessage(id0, "observed")])
      expect(marksOf(lane.proven(0, 2, 2).event)).toEqual([
        onMessage(id0, "proven"),
        onMessage(id1, "proven"),
      ])
    })

    it("given checkpoint events, then the checkpoint of their lane and count reaches their stage", () => {
      expect(marksOf(proposed(3))).toEqual([onCheckpoint(3, "proposed")])
      expect(marksOf(signed(3))).toEqual([onCheckpoint(3, "signed")])
      expect(marksOf(lane.attested(3).event)).toEqual([onCheckpoint(3, "attested")])
      expect(marksOf(lane.rootCommitted(cause, 3, 1).event)).toEqual([onCheckpoint(3, "committed")])
    })

    it("given a checkpoint of count 2, then it covers nonces 0 and 1 of its lane only", () => {
      const mark = onCheckpoint(2, "attested") as Extract<Mark, { on: "checkpoint" }>
      const ours = { srcChainId: 777, outbox: lane.outbox.toUpperCase().replace("0X", "0x"), dstChainId: 902 }
      expect([0, 1, 2].map((nonce) => covers(mark, { lane: ours, nonce }))).toEqual([true, true, false])
      expect(covers(mark, { lane: { ...ours, dstChainId: 903 }, nonce: 0 })).toBe(false)
      expect(laneIdOf(ours)).toBe(`777:${lane.outbox}:902`)
    })

    it("given a submission, then its messages are submitted", () => {
      const submitted = lane.submitted(cause, { action: "deliver", ids: [id0, id1], tx: 1, nonce: 0 })
      expect(marksOf(submitted.event)).toEqual([onMessage(id0, "submitted"), onMessage(id1, "submitted")])
    })
  })

  describe("confirmations", () => {
    it("given a confirmed deliver, then each message takes its outcome, and a skipped outcome settles nothing", () => {
      const confirmed = lane.confirmed(cause, {
        action: "deliver",
        ids: [id0, id1, id2],
        tx: 1,
        results: ["delivered", "failed", "skipped"],
      })
      expect(marksOf(confirmed.event)).toEqual([onMessage(id0, "delivered"), onMessage(id1, "failed")])
    })

    it("given a confirmed commitAndDeliver, then every message is committed too, and its furthest stage is its outcome", () => {
      const confirmed = lane.confirmed(cause, {
        action: "commitAndDeliver",
        ids: [id0, id1],
        tx: 1,
        results: ["delivered", "skipped"],
      })
      expect(marksOf(confirmed.event)).toEqual([
        onMessage(id0, "committed"),
        onMessage(id0, "delivered"),
        onMessage(id1, "committed"),
      ])
      expect(messageStagesOf(confirmed.event)).toEqual(
        new Map([
          [id0, "delivered"],
          [id1, "committed"],
        ]),
      )
    })
  })

  describe("skipped deliveries (the Inbox had already attempted the message)", () => {
    it("given the Inbox statuses delivered, failed and unknown, then the first is delivered, the second failed, the third unmoved", () => {
      const skipped = lane.skipped(cause, {
        action: "commitAndDeliver",
        ids: [id0, id1, id2],
        statuses: ["delivered", "failed", "unknown"],
      })
      expect(marksOf(skipped.event)).toEqual([onMessage(id0, "delivered"), onMessage(id1, "failed")])
      expect(messageStagesOf(skipped.event).get(id2)).toBeUndefined()
    })
  })

  describe("events that move nothing", () => {
    it("given a failed transaction, a retry request or its refusal, then no message moves", () => {
      const request = lane.retryRequested(1)
      expect(
        marksOf(lane.failed(cause, { action: "retry", ids: [id1], tx: null, revertData: "0x12" }).event),
      ).toEqual([])
      expect(marksOf(request.event)).toEqual([])
      expect(marksOf(lane.retryRefused(request, "in-flight").event)).toEqual([])
    })
  })
})

describe("folding a message's marks", () => {
  /** Message 1's whole journey: a failure at the recipient, then a retry that delivered it. */
  const journey: ReadonlyArray<readonly [event: ChorusEvent, at: number]> = [
    [observed(1), 1000],
    [lane.proven(0, 2, 2).event, 2000],
    [proposed(2), 2500],
    [signed(2), 2600],
    [lane.attested(2).event, 3000],
    [lane.rootCommitted(cause, 2, 1).event, 4000],
    [lane.submitted(cause, { action: "deliver", ids: [id1], tx: 2, nonce: 0 }).event, 4500],
    [lane.confirmed(cause, { action: "deliver", ids: [id1], tx: 2, results: ["failed"] }).event, 5000],
    [lane.confirmed(cause, { action: "retry", ids: [id1], tx: 3 }).event, 9000],
    // Read later, a skip that found it delivered, and events about other messages and checkpoints
    [lane.skipped(cause, { action: "deliver", ids: [id1], statuses: ["delivered"] }).event, 9500],
    [lane.attested(1).event, 2900],
    [lane.confirmed(cause, { action: "deliver", ids: [id0], tx: 4, results: ["failed"] }).event, 9900],
  ]
  const message = { messageId: id1, lane: lane.lane, nonce: 1 }

  /** What one reader would make of the events in the order it read them. */
  const fold = (events: ReadonlyArray<readonly [ChorusEvent, number]>): Lifecycle =>
    events.reduce(
      (state, [event, at]) =>
        marksOf(event).reduce(
          (inner, mark) =>
            (mark.on === "message" ? mark.messageId === message.messageId : covers(mark, message))
              ? evolve(inner, mark.stage, at)
              : inner,
          state,
        ),
      {} as Lifecycle,
    )

  it("given the journey in log order, when its marks are folded, then the message is delivered and each stage has its earliest time", () => {
    const lifecycle = fold(journey)
    expect(stageOfLifecycle(lifecycle)).toBe("delivered")
    expect(lifecycle).toEqual({
      observed: 1000,
      proven: 2000,
      proposed: 2500,
      signed: 2600,
      attested: 3000,
      committed: 4000,
      submitted: 4500,
      failed: 5000,
      delivered: 9000,
    })
  })

  it("given the journey in any order, when its marks are folded, then the furthest stage wins and every time is the same", () => {
    const inOrder = fold(journey)
    fc.assert(
      fc.property(fc.shuffledSubarray([...journey], { minLength: journey.length }), (shuffled) => {
        expect(fold(shuffled)).toEqual(inOrder)
      }),
      { numRuns: 200 },
    )
  })

  it("given any subset of the journey in any order, when folded, then the stage is the furthest any of its marks implies", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([...journey]), (some) => {
        const lifecycle = fold(some)
        expect(stageOfLifecycle(lifecycle)).toBe(furthest(Object.keys(lifecycle) as Stage[]))
        if (lifecycle.delivered !== undefined) expect(stageOfLifecycle(lifecycle)).toBe("delivered")
      }),
      { numRuns: 200 },
    )
  })

  it("given a stage reached twice, when folded either way round, then it keeps the earlier time", () => {
    expect(evolve(evolve({}, "delivered", 9), "delivered", 3)).toEqual({ delivered: 3 })
    expect(evolve(evolve({}, "delivered", 3), "delivered", 9)).toEqual({ delivered: 3 })
  })
})
