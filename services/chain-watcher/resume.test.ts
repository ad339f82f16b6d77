/**
 * Where a watcher starts once its chain was halted (issue 12, part 3): not
 * at all while the halt stands; from the resume's trusted block once a
 * `ChainResumed` lifts it, unless its last cursor already descends from that
 * resume. The last cursor is all the compacted cursors topic keeps, and it
 * is all the decision needs.
 */
import { describe, expect, it } from "vitest"
import { publishEvents } from "../../bus/events/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  type Envelope,
  makeEnvelope,
  OutboxRangeRead,
  WatcherCursor,
} from "../../schemas/index.ts"
import { haltedEnvelope, resumedEnvelope } from "../../schemas/testing/chain-halts.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { type ChainStatus, foldChainHalt, haltEventOf } from "../runtime/chain-halts.ts"
import { producerOf, quietLogger } from "../runtime/index.ts"
import { loadResumePoint, startPointOf } from "./resume.ts"

const CHAIN = 901
const watcher = producerOf("chain-watcher", String(CHAIN))
const T = Date.parse("2026-03-01T00:00:00.000Z")
const at = (s: number) => new Date(T + s * 1000)
const ref = (n: number, byte = "ab") =>
  new BlockRef({ number: n, hash: Bytes32.make(`0x${byte.repeat(32)}`) })

const cursorAt = (n: number, time: Date, resumedBy?: Envelope["id"]) =>
  makeEnvelope(
    resumedBy === undefined
      ? new WatcherCursor({ chainId: ChainId.make(CHAIN), block: ref(n) })
      : new WatcherCursor({ chainId: ChainId.make(CHAIN), block: ref(n), resumedBy }),
    { producer: watcher, causationId: null, time },
  )

/** The chain's status after these halt records, as the halts view folds them. */
const statusAfter = (records: ReadonlyArray<Envelope>): ChainStatus | null => {
  let status: ChainStatus | null = null
  for (const record of records) {
    const event = haltEventOf(record)
    if (event.kind === "ignored") continue
    const folded = foldChainHalt(status, event)
    if (folded.kind === "folded") status = folded.status
  }
  return status
}

describe("startPointOf", () => {
  const halt = haltedEnvelope(CHAIN, { blockNumber: 41, time: at(10) })
  const resume = resumedEnvelope(halt, { block: 38, hash: `0x${"38".repeat(32)}`, time: at(20) })

  it("given no halt, then it starts from its cursor", () => {
    const cursor = cursorAt(40, at(5))
    expect(startPointOf(cursor, null)).toEqual({ kind: "cursor", cursor })
  })

  it("given its chain halted and not resumed, then it does not start", () => {
    expect(startPointOf(cursorAt(40, at(5)), statusAfter([halt]))).toMatchObject({
      kind: "halted",
      halt: { eventId: halt.id, blockNumber: 41 },
    })
  })

  it("given a resume and a cursor from before it (the only one compaction kept), then it starts from the resume's trusted block", () => {
    expect(startPointOf(cursorAt(40, at(5)), statusAfter([halt, resume]))).toMatchObject({
      kind: "resume",
      resume: { eventId: resume.id, block: { number: 38 } },
    })
    expect(startPointOf(null, statusAfter([halt, resume]))).toMatchObject({ kind: "resume" })
  })

  it("given a resume and a cursor that names it, then it starts from its cursor, however far past the trusted block", () => {
    const cursor = cursorAt(90, at(30), resume.id)
    expect(startPointOf(cursor, statusAfter([halt, resume]))).toEqual({ kind: "cursor", cursor })
  })

  it("given a cursor naming an earlier resume, and a later halt lifted by another, then it starts from the later resume", () => {
    const again = haltedEnvelope(CHAIN, { blockNumber: 95, time: at(40) })
    const later = resumedEnvelope(again, { block: 93, time: at(50) })
    expect(
      startPointOf(cursorAt(90, at(30), resume.id), statusAfter([halt, resume, again, later])),
    ).toMatchObject({
      kind: "resume",
      resume: { eventId: later.id },
    })
  })
})

describe("loadResumePoint", () => {
  const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-watcher-resume-")
  const read = (fromBlock: number, cursorCheck: BlockRef, resumedBy?: Envelope["id"]) =>
    new OutboxRangeRead({
      chainId: ChainId.make(CHAIN),
      outbox: "0x0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a" as OutboxRangeRead["outbox"],
      cursorCheck,
      fromBlock,
      to: ref(fromBlock + 4),
      blocks: [],
      lanes: [],
      ...(resumedBy === undefined ? {} : { resumedBy }),
    })

  it("given a resume, then its pending read is only one made from the resume's trusted block, never one of the history before the halt that starts at the same block", async () => {
    const halt = haltedEnvelope(CHAIN, { blockNumber: 41, time: at(10) })
    const resume = resumedEnvelope(halt, { block: 38, hash: `0x${"38".repeat(32)}`, time: at(20) })
    // Before the halt the watcher read blocks 39.. from its cursor at 38; it left that read pending.
    const old = makeEnvelope(read(39, ref(38)), { producer: watcher, causationId: null, time: at(5) })
    await publishEvents(bus(), [cursorAt(38, at(4)), old, halt, resume])
    const first = await loadResumePoint(bus(), { chainId: CHAIN, startBlock: 0, logger: quietLogger() })
    expect(first.start).toMatchObject({ kind: "resume", resume: { eventId: resume.id } })
    expect(first.pending).toBeNull()

    // After the resume the watcher read from the trusted block and stopped before folding it.
    const fresh = makeEnvelope(read(39, ref(38, "38"), resume.id), {
      producer: watcher,
      causationId: null,
      time: at(25),
    })
    await publishEvents(bus(), [fresh])
    const second = await loadResumePoint(bus(), { chainId: CHAIN, startBlock: 0, logger: quietLogger() })
    expect(second.pending?.id).toBe(fresh.id)
  })
})
