/**
 * The chain halts view (issue 12, part 3): a chain is halted while its last
 * `ChainHalted` is not followed by a `ChainResumed` that names it; each is
 * taken only from its rightful writer (a chain-watcher, the `chain-resume`
 * tool); the resume's trusted block, lane counts, author and time are what
 * the submitter and the operators act on.
 */
import { describe, expect, it } from "vitest"
import { publishEvents } from "../../bus/events/index.ts"
import type { Envelope } from "../../schemas/index.ts"
import { haltedEnvelope, resumedEnvelope } from "../../schemas/testing/chain-halts.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { chainHaltsView, foldChainHalt, haltEventOf } from "./chain-halts.ts"
import { jsonLogger } from "./logger.ts"

const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-chain-halts-")
const T = Date.parse("2026-03-01T00:00:00.000Z")
const at = (s: number) => new Date(T + s * 1000)

/** A refreshed view over `records`, with the warnings it logged. */
const viewOf = async (records: ReadonlyArray<Envelope>) => {
  await publishEvents(bus(), records)
  const lines: string[] = []
  const view = chainHaltsView(bus(), jsonLogger({ write: (line) => lines.push(line) }, "warn"))
  await view.refresh()
  return { view, warnings: lines.map((line) => JSON.parse(line) as { msg: string; reason?: string }) }
}

describe("chainHaltsView", () => {
  it("given a halt, when a resume names it, then the chain is no longer halted and the resume says from where, with what, by whom and when", async () => {
    const halt = haltedEnvelope(901, { blockNumber: 41, time: at(0) })
    const resume = resumedEnvelope(halt, {
      block: 38,
      counts: { 902: 3, 903: 0 },
      by: "alice@ops",
      reason: "RPC replaced",
      time: at(60),
    })
    const { view } = await viewOf([halt])
    expect(view.haltOf(901)).toMatchObject({ blockNumber: 41, eventId: halt.id, since: T })
    expect(view.statusOf(901)?.kind).toBe("halted")
    expect(view.resumeOf(901)).toBeNull()

    await publishEvents(bus(), [resume])
    await view.refresh()
    expect(view.haltOf(901)).toBeNull()
    expect(view.halts().size).toBe(0)
    const lifted = view.resumeOf(901)!
    expect(lifted).toMatchObject({
      eventId: resume.id,
      at: T + 60_000,
      block: { number: 38, hash: `0x${"40".repeat(32)}` },
      by: "alice@ops",
      reason: "RPC replaced",
      halt: { eventId: halt.id, blockNumber: 41 },
    })
    expect([...lifted.counts]).toEqual([
      [902, 3],
      [903, 0],
    ])
    expect(view.statusOf(901)?.kind).toBe("resumed")
  })

  it("given a resume that names an older halt, or comes while the chain is not halted, then it lifts nothing, and a halt after a resume halts again", async () => {
    const first = haltedEnvelope(901, { blockNumber: 41, time: at(0) })
    const second = haltedEnvelope(901, { blockNumber: 45, time: at(10) })
    const stale = resumedEnvelope(first, { block: 38, time: at(20) })
    const { view, warnings } = await viewOf([first, second, stale])
    expect(view.haltOf(901)).toMatchObject({ eventId: second.id, blockNumber: 45 })
    expect(warnings.map((w) => w.reason)).toContainEqual(
      expect.stringMatching(/but chain 901's last halt is .* \(block 45\)/),
    )

    const lift = resumedEnvelope(second, { block: 38, time: at(30) })
    const again = haltedEnvelope(901, { blockNumber: 50, time: at(40) })
    await publishEvents(bus(), [lift, resumedEnvelope(second, { block: 37, time: at(35) }), again])
    await view.refresh()
    expect(view.haltOf(901)).toMatchObject({ eventId: again.id, blockNumber: 50 })
    expect(view.resumeOf(901)).toBeNull()
  })

  it("given a resumed chain, when an old halt of it is written again (a copy of an authentic record), then it halts nothing and is said so; a new halt still halts", async () => {
    const first = haltedEnvelope(901, { blockNumber: 41, time: at(0) })
    const lift = resumedEnvelope(first, { block: 38, time: at(30) })
    const { view, warnings } = await viewOf([first, lift, first, first])
    expect(view.statusOf(901)?.kind).toBe("resumed")
    expect(warnings.map((w) => w.reason)).toContainEqual(
      expect.stringMatching(
        /was written before ChainResumed .* lifted chain 901's halt: a copy of an old halt halts nothing/,
      ),
    )
    const again = haltedEnvelope(901, { blockNumber: 50, time: at(40) })
    await publishEvents(bus(), [again, again])
    await view.refresh()
    expect(view.haltOf(901)).toMatchObject({ eventId: again.id, blockNumber: 50 })
  })

  it("given a halt or a resume from a producer that does not write it, then it is ignored and said so", async () => {
    const forgedHalt = haltedEnvelope(902, { writer: "chain-resume", time: at(0) })
    const halt = haltedEnvelope(901, { time: at(1) })
    const forgedResume = resumedEnvelope(halt, { writer: "chain-watcher", time: at(2) })
    const { view, warnings } = await viewOf([forgedHalt, halt, forgedResume])
    expect(view.haltOf(902)).toBeNull()
    expect(view.haltOf(901)).toMatchObject({ eventId: halt.id })
    const ignored = warnings.filter((w) => w.msg === "a halt or resume on the chain halts topic is ignored")
    expect(ignored.map((w) => w.reason)).toEqual([
      "a ChainHalted written by chain-resume, not by a chain-watcher",
      "a ChainResumed written by chain-watcher, not by the chain-resume tool",
    ])
  })
})

describe("foldChainHalt", () => {
  it("given no halt, when a resume comes, then it is ignored; given a halt, when its resume comes, then the chain is resumed from the resume's block", () => {
    const halt = haltedEnvelope(901, { time: at(0) })
    const resume = haltEventOf(resumedEnvelope(halt, { block: 38, time: at(1) }))
    const halted = haltEventOf(halt)
    if (resume.kind !== "resumed" || halted.kind !== "halted") throw new Error("expected a halt and a resume")
    expect(foldChainHalt(null, resume)).toMatchObject({ kind: "ignored" })
    const after = foldChainHalt({ kind: "halted", halt: halted.halt }, resume)
    expect(after).toMatchObject({
      kind: "folded",
      status: { kind: "resumed", resume: { block: { number: 38 } } },
    })
  })
})
