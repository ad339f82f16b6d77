/**
 * The nonce gaps a watcher re-reads (issue 12): only the proof-builder's
 * `nonce-gap` stalls of the watcher's own chain and Outbox open one, a
 * proposal past a gap closes it, and the view follows the topic from where
 * it stopped.
 */
import { describe, expect, it } from "vitest"
import { publishEvents } from "../../bus/events/index.ts"
import {
  Address,
  BlockRef,
  ChainId,
  type Envelope,
  Lane,
  LaneStalled,
  makeEnvelope,
  type Producer,
} from "../../schemas/index.ts"
import { bytes32, proposalOf, TEST_OUTBOX, testCheckpoint } from "../../test/fixtures/checkpoint.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { jsonLogger, producerOf } from "../runtime/index.ts"
import { gapEventOf, nonceGapsView } from "./nonce-gaps.ts"

const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-nonce-gaps-")
const OTHER = Address.make(`0x${"0b".repeat(20)}`)
const WATCHED = { chainId: 901, outbox: TEST_OUTBOX }
const proofBuilder = producerOf("proof-builder", "proof-builder")

const laneOf = (fields: { src?: number; outbox?: Address; dst?: number } = {}) =>
  new Lane({
    srcChainId: ChainId.make(fields.src ?? 901),
    outbox: fields.outbox ?? TEST_OUTBOX,
    dstChainId: ChainId.make(fields.dst ?? 902),
  })
const stalled = (
  nonce: number,
  fields: { lane?: Lane; reason?: LaneStalled["reason"]; producer?: Producer } = {},
): Envelope =>
  makeEnvelope(
    new LaneStalled({
      lane: fields.lane ?? laneOf(),
      reason: fields.reason ?? "nonce-gap",
      treeCount: nonce,
      detail: `waiting for nonce ${nonce}`,
    }),
    {
      producer: fields.producer ?? proofBuilder,
      causationId: null,
      time: new Date(1_700_000_000_000 + nonce),
    },
  )
/** The proof-builder's proposal of lane 901 → 902 at `count`. */
const proposed = (count: number): Envelope =>
  proposalOf(
    testCheckpoint({ count }),
    new BlockRef({ number: 10, hash: bytes32("dd") }),
    new Date(1_700_000_001_000),
  )

describe("gapEventOf", () => {
  it("given the proof-builder's nonce-gap stall of the watcher's lane, then it opens a gap at the missing nonce", () => {
    const stall = stalled(23)

    expect(gapEventOf(stall, WATCHED)).toEqual({
      kind: "gap",
      gap: { lane: laneOf(), nonce: 23, stall: stall.id },
    })
  })

  it.each<[string, Envelope, RegExp]>([
    [
      "a stall another service wrote",
      stalled(2, { producer: producerOf("submitter", "902") }),
      /written by submitter/,
    ],
    [
      "a stall of another chain's lane",
      stalled(2, { lane: laneOf({ src: 902, dst: 901 }) }),
      /not of this Outbox/,
    ],
    ["a stall of another Outbox", stalled(2, { lane: laneOf({ outbox: OTHER }) }), /not of this Outbox/],
    ["a root-mismatch stall", stalled(2, { reason: "root-mismatch" }), /a root-mismatch stall/],
  ])("given %s, then it is ignored", (_, envelope, reason) => {
    const event = gapEventOf(envelope, WATCHED)

    expect(event.kind).toBe("ignored")
    expect(event.kind === "ignored" && event.reason).toMatch(reason)
  })

  it("given a proposal of the watcher's lane, then it names the lane's count", () => {
    expect(gapEventOf(proposed(7), WATCHED)).toEqual({ kind: "proposed", dstChainId: 902, count: 7 })
  })
})

describe("nonceGapsView", () => {
  const viewOf = () => nonceGapsView(bus(), WATCHED, jsonLogger({ write: () => undefined }, "error"))

  it("given stalls of several lanes, reported again and again, then each (lane, nonce) is one open gap; a proposal past one closes it", async () => {
    // given
    await publishEvents(bus(), [
      stalled(2),
      stalled(2),
      stalled(0, { lane: laneOf({ dst: 903 }) }),
      stalled(5),
    ])
    const view = viewOf()
    // when
    await view.refresh()
    // then
    expect(view.open().map((gap) => [gap.lane.dstChainId, gap.nonce])).toEqual([
      [902, 2],
      [902, 5],
      [903, 0],
    ])
    // when the proof-builder proposes lane 902 past nonce 2, and the view reads on from where it stopped
    await publishEvents(bus(), [proposed(4)])
    await view.refresh()
    // then
    expect(view.open().map((gap) => [gap.lane.dstChainId, gap.nonce])).toEqual([
      [902, 5],
      [903, 0],
    ])
    // and a gap the watcher closes stays closed until it is reported again
    view.close(view.open()[1]!)
    await view.refresh()
    expect(view.open().map((gap) => gap.nonce)).toEqual([5])
    await publishEvents(bus(), [stalled(0, { lane: laneOf({ dst: 903 }) }), stalled(3)])
    await view.refresh()
    expect(view.open().map((gap) => [gap.lane.dstChainId, gap.nonce])).toEqual([
      [902, 5],
      [903, 0],
    ])
  })
})
