import { describe, expect, it } from "vitest"
import {
  Bytes32,
  type Envelope,
  Message,
  MessageProven,
  makeEnvelope,
  Producer,
} from "../../../schemas/index.ts"
import { DST, submitterCoreFixture } from "../../../test/fixtures/submitter-core.ts"
import { emptySubmitterState } from "./state.ts"

const { core, lane, given } = submitterCoreFixture(4)

describe("the submitter core", () => {
  const attested = lane.attested(4)
  const [chunk] = lane.chunks(0, 4, 4)
  const ids = lane.ids.slice(0, 4)
  const first = lane.submitted(attested.id, { action: "commitAndDeliver", ids, tx: 1, nonce: 5 }, 1)
  const replacement = lane.submitted(
    first.id,
    { action: "commitAndDeliver", ids, tx: 2, nonce: 5, replaces: 1 },
    2,
  )

  it("keeps a submitted transaction in flight, with its replacements, until an outcome names it", () => {
    // Given a submission and its fee-bump replacement, and no outcome
    const state = given(attested, chunk!, first, replacement)
    // Then one flight is open at that nonce, with both transactions, for the attested root
    expect([...state.flights.keys()]).toEqual([5])
    const flight = state.flights.get(5)!
    expect(flight.transactions.map((t) => t.hash)).toEqual([lane.hashOf(1), lane.hashOf(2)])
    expect(flight.root).toBe(attested.event.checkpoint.root)
    expect(flight.origin).toBe(attested.id)

    // When the replacement is confirmed
    const confirmed = lane.confirmed(replacement.id, { action: "commitAndDeliver", ids, tx: 2 }, 3)
    const after = given(attested, chunk!, first, replacement, confirmed)
    // Then the flight is closed and the lane holds nothing pending
    expect(after.flights.size).toBe(0)
    expect(after.submissions.size).toBe(0)
    expect([...after.lanes.values()][0]!.chunks.size).toBe(0)
  })

  it("closes a flight by a skip that names its submission as the cause", () => {
    const skipped = lane.skipped(first.id, { action: "commitAndDeliver", ids })
    expect(given(attested, chunk!, first, skipped).flights.size).toBe(0)
  })

  it("marks a root committed when a commit is confirmed, even without RootCommitted", () => {
    const commit = lane.submitted(attested.id, { action: "commit", ids: [], tx: 9, nonce: 1 }, 1)
    const state = given(
      attested,
      chunk!,
      commit,
      lane.confirmed(commit.id, { action: "commit", ids: [], tx: 9 }, 2),
    )
    const entry = [...state.lanes.values()][0]!.checkpoints.get(attested.event.checkpoint.root)!
    expect(entry.committedAt).not.toBeNull()
  })

  it("folds the same fact twice as once, and never mutates its initial state", () => {
    const confirmed = lane.confirmed(first.id, { action: "commitAndDeliver", ids, tx: 1 }, 3)
    const once = core.decide(core.decide(core.initial, attested, []).state, chunk!, []).state
    const twice = [first, confirmed, first, confirmed].reduce((s, e) => core.decide(s, e, []).state, once)
    expect(twice.flights.size).toBe(0)
    expect([...twice.lanes.values()][0]!.floor).toBe(4)
    expect(core.initial).toEqual(emptySubmitterState(DST))
  })

  describe("a proof chunk that does not verify against its own checkpoint", () => {
    const forgedWith = (proof: ReadonlyArray<string>) => {
      const real = lane.chunks(0, 4, 4)[0]!
      return makeEnvelope(new MessageProven({ ...real.event, proof: proof.map((p) => Bytes32.make(p)) }), {
        producer: new Producer({ service: "proof-builder", instance: "proof-builder", version: "forged" }),
        causationId: null,
        time: new Date(real.time),
      })
    }

    it("given one whose message no ABI can encode (a nonce past uint32), when folded, then it is refused, not thrown", () => {
      const real = lane.chunks(0, 4, 4)[0]!
      const first = real.event.messages[0]!
      const unencodable = makeEnvelope(
        new MessageProven({
          ...real.event,
          messages: [new Message({ ...first, nonce: 2 ** 40 }), ...real.event.messages.slice(1)],
        }),
        { producer: real.producer, causationId: null, time: new Date(real.time) },
      )
      const state = given(attested, unencodable, chunk!)
      expect([...state.lanes.values()][0]!.chunks.get(0)?.id).toBe(chunk!.id)
    })

    it.each([
      ["the wrong number of siblings", [`0x${"11".repeat(32)}`, `0x${"22".repeat(32)}`]],
      [
        "siblings that give another root",
        Array.from({ length: 2 }, (_, i) => `0x${String(i + 3).repeat(64)}`),
      ],
    ])(
      "given one with %s published first, when the real chunk arrives, then the real one holds the slot",
      (_what, proof) => {
        const forged = forgedWith(proof)
        const state = given(attested, forged, chunk!)
        const held = [...state.lanes.values()][0]!.chunks.get(0)!
        expect(held.id).toBe(chunk!.id)
      },
    )
  })

  describe("two verifying chunks at one start, under different checkpoints", () => {
    // The first 4 messages of an 8-message lane, proven under the checkpoint at 8 (never attested: a
    // proposal that expired, or a compromised proof-builder's) and under the checkpoint at 4 (attested).
    const wide = submitterCoreFixture(8)
    const unattested = wide.lane.proven(0, 4, 8)
    const real = wide.lane.proven(0, 4, 4)
    const attestedAt4 = wide.lane.attested(4)
    const heldAt0 = (...inputs: Envelope[]) =>
      [...wide.given(...inputs).lanes.values()][0]!.chunks.get(0)!.checkpoint.count

    it("given the unattested one first, when the attested one's checkpoint is attested, then the attested one holds the slot", () => {
      expect(heldAt0(unattested, real, attestedAt4)).toBe(4)
      expect(heldAt0(unattested, attestedAt4, real)).toBe(4)
      expect(heldAt0(attestedAt4, unattested, real)).toBe(4)
    })

    it("given the attested one first, then a later chunk under another checkpoint never takes its slot", () => {
      expect(heldAt0(real, attestedAt4, unattested)).toBe(4)
      expect(heldAt0(attestedAt4, real, unattested)).toBe(4)
    })

    it("given a flood of chunks under other checkpoints, then a start keeps a bounded number of them", () => {
      const lane = [...wide.given(unattested, real).lanes.values()][0]!
      expect(lane.alternates.get(0)?.length).toBe(1)
    })
  })
})
