/**
 * Messages of a chain its watcher halted (rewritten below finality) are
 * quarantined (issue 12, part 3): `chorus messages --status quarantined`
 * lists the ones not settled, `trace` says why they are held, and they are
 * neither stuck nor in flight; what settled before the halt stays settled.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Bytes32, ChainHalted, ChainId, type Envelope, makeEnvelope } from "../../schemas/index.ts"
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
