/**
 * Messages of a chain its watcher halted (rewritten below finality) are
 * quarantined (issue 12, part 3): `chorus messages --status quarantined`
 * lists the ones not settled, `trace` says why they are held, and they are
 * neither stuck nor in flight; what settled before the halt stays settled.
 * A `ChainResumed` from the `chain-resume` tool that names the halt lifts the
 * quarantine, and `trace` shows the halt and the resume (block, who, when,
 * why) on the chain's messages; an operator's `chain-halted` refusal reads
 * as what it is.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  AttestationRefused,
  Bytes32,
  ChainHalted,
  ChainId,
  type Envelope,
  makeEnvelope,
  Producer,
} from "../../schemas/index.ts"
import { resumedEnvelope } from "../../schemas/testing/chain-halts.ts"
import { makeTestLane } from "../lifecycle/testing/lane.ts"
import { producerOf } from "../runtime/index.ts"
import { indexEvent } from "./index-event.ts"
import { AuditStore } from "./index-store.ts"
import { listMessages } from "./list-messages.ts"
import { traceMessage } from "./trace-message.ts"

const lane = makeTestLane(4)
const T = Date.parse("2026-01-01T00:00:00.000Z")
const HOUR = 3_600_000

let store: AuditStore
let offset: number
const index = (envelope: Envelope, at = T) =>
  indexEvent(store, envelope, {
    topic: "chorus.some.topic",
    partition: 0,
    offset: offset++,
    eventId: envelope.id,
    type: envelope.type,
    at,
  })
const halt = (chainId: number) =>
  makeEnvelope(
    new ChainHalted({
      chainId: ChainId.make(chainId),
      blockNumber: 41,
      expectedHash: Bytes32.make(`0x${"41".repeat(32)}`),
      observedHash: Bytes32.make(`0x${"42".repeat(32)}`),
      reason: "the chain was rewritten below the watcher's cursor (finality violated); stopping",
    }),
    { producer: producerOf("chain-watcher", String(chainId)), causationId: null, time: new Date(T + 1_000) },
  )
const ids = (status: Parameters<typeof listMessages>[1]["status"]) =>
  listMessages(store, { status, now: T + HOUR, stuckAfterMs: 120_000, limit: 0 }).rows.map((r) => r.id)

beforeEach(() => {
  store = AuditStore.open(":memory:")
  offset = 0
  for (let nonce = 0; nonce < 4; nonce++) index(lane.observed(nonce))
  // Message 0 was delivered before anything went wrong.
  const submitted = lane.submitted(lane.attested(4).id, {
    action: "deliver",
    ids: [lane.ids[0]!],
    tx: 1,
    nonce: 0,
  })
  index(submitted)
  index(lane.confirmed(submitted.id, { action: "deliver", ids: [lane.ids[0]!], tx: 1 }))
})
afterEach(() => store.close())

describe("a halted source chain's messages", () => {
  it("given its watcher halted it, then the messages not settled are quarantined, not stuck, and the delivered one stays delivered", () => {
    expect(ids("stuck")).toEqual(lane.ids.slice(1))
    index(halt(777), T + 1_000)
    expect(ids("quarantined")).toEqual(lane.ids.slice(1))
    expect(ids("stuck")).toEqual([])
    expect(ids("in-flight")).toEqual([])
    expect(ids("delivered")).toEqual([lane.ids[0]])
    const [row] = listMessages(store, {
      status: "quarantined",
      now: T + HOUR,
      stuckAfterMs: 120_000,
      limit: 1,
    }).rows
    expect(row!.waitingOn).toEqual([
      expect.stringMatching(
        /^quarantined: source chain 777 was rewritten below finality \(its watcher halted at block 41/,
      ),
    ])
  })

  it("given its watcher halted it, then trace says the message is held and why", () => {
    index(halt(777), T + 1_000)
    const trace = traceMessage(store, lane.ids[2]!, { now: T + HOUR, stuckAfterMs: 120_000 })!
    expect(trace.status).toBe("quarantined")
    expect(trace.waiting[0]).toMatch(/every submitter holds its messages until the halt is lifted/)
  })

  it("given another chain halted, then this chain's messages are not quarantined", () => {
    index(halt(903), T + 1_000)
    expect(ids("quarantined")).toEqual([])
    expect(ids("stuck")).toEqual(lane.ids.slice(1))
  })
})

describe("a halted source chain, resumed", () => {
  const resume = (halted: Envelope<ChainHalted>, over: Parameters<typeof resumedEnvelope>[1] = {}) =>
    resumedEnvelope(halted, {
      block: 38,
      hash: `0x${"38".repeat(32)}`,
      outbox: lane.outbox,
      counts: { 902: 2 },
      by: "alice@ops",
      reason: "the sequencer's RPC served a fork; fixed",
      time: new Date(T + 2_000),
      ...over,
    })

  it("given a resume from the chain-resume tool that names the halt, then its messages are no longer quarantined, but stuck or in flight by their stage", () => {
    const halted = halt(777)
    index(halted, T + 1_000)
    index(resume(halted), T + 2_000)
    expect(ids("quarantined")).toEqual([])
    expect(ids("stuck")).toEqual(lane.ids.slice(1))
    expect(ids("delivered")).toEqual([lane.ids[0]])
  })

  it("given a resume, then trace shows the halt and the resume on the chain's messages: from which block, by whom, when and why, and what the message waits for", () => {
    const halted = halt(777)
    index(halted, T + 1_000)
    index(resume(halted), T + 2_000)
    const above = traceMessage(store, lane.ids[3]!, { now: T + HOUR, stuckAfterMs: 120_000 })!
    expect(above.status).toBe("stuck")
    const [haltStep, resumeStep] = above.steps.filter((s) => s.stage.startsWith("chain-"))
    expect(haltStep).toMatchObject({ stage: "chain-halted", at: T + 1_000 })
    expect(haltStep!.summary).toMatch(
      /^source chain 777 halted: its watcher found block 41 rewritten below finality/,
    )
    expect(resumeStep).toMatchObject({
      stage: "chain-resumed",
      at: T + 2_000,
      detail: {
        block: 38,
        by: "alice@ops",
        reason: "the sequencer's RPC served a fork; fixed",
        trustedCount: 2,
      },
    })
    expect(resumeStep!.summary).toBe(
      `source chain 777 resumed by alice@ops ("the sequencer's RPC served a fork; fixed") from block 38 (0x38383838…), where lane 777 → 902 counted 2: nonce 3 is not, so only a checkpoint attested after the resume delivers it`,
    )
    expect(above.waiting).toContainEqual(
      "source chain 777 was resumed from block 38 by alice@ops at 2026-01-01T00:00:02.000Z, where lane 777 → 902 counted 2: nonce 3 is delivered only against a checkpoint attested after the resume (one attested before it may hold messages the rewrite replaced)",
    )
    // A message below the trusted count goes on as before, and is not told to wait for a fresh attestation
    const below = traceMessage(store, lane.ids[1]!, { now: T + HOUR, stuckAfterMs: 120_000 })!
    expect(below.steps.find((s) => s.stage === "chain-resumed")!.summary).toMatch(
      /nonce 1 is below it, so it goes on as before$/,
    )
    expect(below.waiting.join("\n")).not.toMatch(/was resumed/)
  })

  it("given a resume written by anyone but the chain-resume tool, or naming another halt, then it lifts nothing", () => {
    const halted = halt(777)
    index(halted, T + 1_000)
    index(resume(halted, { writer: "chain-watcher" }), T + 2_000)
    index(resume(halt(903), { time: new Date(T + 3_000) }), T + 3_000)
    expect(ids("quarantined")).toEqual(lane.ids.slice(1))
    const trace = traceMessage(store, lane.ids[2]!, { now: T + HOUR, stuckAfterMs: 120_000 })!
    expect(trace.steps.map((s) => s.stage)).not.toContain("chain-resumed")
  })

  it("given an operator refused a checkpoint because the chain was halted, then trace shows the refusal with the chain, the block and why", () => {
    const operator = "0x00000000000000000000000000000000000000a1"
    index(lane.proven(0, 4, 4))
    index(
      makeEnvelope(
        new AttestationRefused({
          checkpoint: lane.checkpoint(4),
          operator: operator as AttestationRefused["operator"],
          reason: "chain-halted",
          detail:
            "source chain 777 is halted on the log: its watcher found block 41 rewritten below finality (ChainHalted 0x…: rewritten); it signs nothing of chain 777 until `chorus chain resume 777` lifts the halt from a trusted block",
        }),
        {
          producer: new Producer({ service: "operator", instance: operator, version: "test" }),
          causationId: null,
          time: new Date(T + 500),
        },
      ),
      T + 500,
    )
    const trace = traceMessage(store, lane.ids[2]!, { now: T + HOUR, stuckAfterMs: 120_000 })!
    const refused = trace.steps.find((s) => s.stage === "refused")!
    expect(refused.summary).toBe(
      `operator ${operator} refused checkpoint #4: chain-halted — source chain 777 is halted on the log: its watcher found block 41 rewritten below finality (ChainHalted 0x…: rewritten); it signs nothing of chain 777 until \`chorus chain resume 777\` lifts the halt from a trusted block`,
    )
  })
})
