import { describe, expect, it } from "vitest"
import {
  Bytes32,
  ChainId,
  Checkpoint,
  type Envelope,
  Message,
  MessageProven,
  makeEnvelope,
  Producer,
} from "../../../schemas/index.ts"
import { DST, submitterCoreFixture } from "../../../test/fixtures/submitter-core.ts"
import { foldCore, producerOf, stampOutputs } from "../../runtime/index.ts"
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

describe("a proof chunk that does not verify is refused with a reason", () => {
  // An 8-message lane: the chunk [0, 4) under the checkpoint at 8 needs one sibling (the root of [4, 8)).
  const wide = submitterCoreFixture(8)
  const producer = producerOf("submitter", String(DST))
  const attested = wide.lane.attested(8)
  const real = wide.lane.proven(0, 4, 8)
  const ids = wide.lane.ids
  /** The real chunk [0, 4) at count 8 with some fields replaced, as a hostile proof-builder key would write it. */
  const forged = (fields: Partial<ConstructorParameters<typeof MessageProven>[0]>) =>
    makeEnvelope(new MessageProven({ ...real.event, ...fields }), {
      producer: real.producer,
      causationId: null,
      time: new Date(real.time),
    })
  const run = (...inputs: ReadonlyArray<Envelope>) =>
    foldCore(
      core8,
      producer,
      inputs.map((input) => ({ input, reads: [] })),
    )
  const core8 = wide.core
  const refusals = (...inputs: ReadonlyArray<Envelope>) =>
    run(...inputs).outputs.filter((o) => o.type === "ProofRefused")
  const heldAt0 = (...inputs: ReadonlyArray<Envelope>) =>
    [...run(...inputs).state.lanes.values()][0]?.chunks.get(0)?.id

  const cases: ReadonlyArray<
    readonly [string, Envelope, { reason: string; index?: number | null; detail: RegExp }]
  > = [
    [
      "the wrong number of siblings",
      forged({ proof: [real.event.proof[0]!, Bytes32.make(`0x${"22".repeat(32)}`)] }),
      { reason: "unverifiable", index: null, detail: /2 siblings.*needs 1$/s },
    ],
    [
      "a sibling that gives another root",
      forged({ proof: [Bytes32.make(`0x${"33".repeat(32)}`)] }),
      {
        reason: "root-mismatch",
        index: null,
        detail: /give 0x[0-9a-f]{64}, not the checkpoint's root 0x[0-9a-f]{64}/,
      },
    ],
    [
      "ids that are not its messages' (two swapped)",
      forged({ messageIds: [ids[0]!, ids[2]!, ids[1]!, ids[3]!] }),
      { reason: "ids-not-messages", index: 1, detail: /message 1 .*hashes to/s },
    ],
    [
      "more ids than messages",
      forged({ messageIds: ids.slice(0, 5) }),
      { reason: "ids-not-messages", index: 4, detail: /5 message ids for 4 messages/ },
    ],
    [
      "a message no ABI can encode (a nonce past uint32)",
      forged({
        messages: [
          new Message({ ...real.event.messages[0]!, nonce: 2 ** 40 }),
          ...real.event.messages.slice(1),
        ],
      }),
      { reason: "unverifiable", index: null, detail: /message 0.*nonce 1099511627776.*uint32/s },
    ],
    [
      "a range past its checkpoint's count",
      forged({ start: 6 }),
      { reason: "unverifiable", index: null, detail: /\[6, 10\).*8 messages/s },
    ],
    [
      "no messages at all",
      forged({ messages: [], messageIds: [], proof: [] }),
      { reason: "unverifiable", index: null, detail: /no messages/ },
    ],
  ]

  it.each(cases)(
    "given a chunk with %s, when it is folded, then exactly one ProofRefused caused by it says why, and the real chunk holds the slot",
    (_what, chunk, expected) => {
      for (const order of [
        [attested, chunk, real],
        [attested, real, chunk],
      ]) {
        const out = refusals(...order)
        expect(out).toHaveLength(1)
        const [refusal] = out
        expect(refusal!.causationId).toBe(chunk.id)
        const event = chunk.event as MessageProven
        expect(refusal!.event).toMatchObject({
          _tag: "ProofRefused",
          checkpoint: event.checkpoint,
          start: event.start,
          messageCount: event.messages.length,
          messageIds: event.messageIds,
          reason: expected.reason,
          index: expected.index ?? null,
        })
        expect((refusal!.event as { detail: string }).detail).toMatch(expected.detail)
        expect(heldAt0(...order)).toBe(real.id)
      }
    },
  )

  it("given siblings that give another root, then the refusal names the root they give and the checkpoint's", () => {
    const chunk = forged({ proof: [Bytes32.make(`0x${"33".repeat(32)}`)] })
    const [refusal] = refusals(attested, chunk)
    const event = refusal!.event as { computedRoot: string | null; detail: string }
    expect(event.computedRoot).toMatch(/^0x[0-9a-f]{64}$/)
    expect(event.computedRoot).not.toBe(real.event.checkpoint.root)
    expect(event.detail).toContain(event.computedRoot!)
    expect(event.detail).toContain(real.event.checkpoint.root)
  })

  it("given a chunk of many messages that does not verify, then the refusal lists a bounded number of its ids and counts them all", () => {
    const many = 100
    const chunk = forged({
      messages: Array.from({ length: many }, () => real.event.messages[0]!),
      messageIds: Array.from({ length: many }, () => ids[0]!),
    })
    const [refusal] = refusals(chunk)
    expect(refusal!.event).toMatchObject({ messageCount: many })
    const listed = (refusal!.event as { messageIds: ReadonlyArray<string> }).messageIds
    expect(listed).toEqual(Array.from({ length: 64 }, () => ids[0]))
  })

  it("given a chunk under the held chunk's root but with a forged proof, then it is refused, not taken for a duplicate", () => {
    const chunk = forged({ proof: [Bytes32.make(`0x${"44".repeat(32)}`)] })
    expect(refusals(attested, real, chunk).map((r) => r.causationId)).toEqual([chunk.id])
  })

  it("given a second copy of the held chunk (same proof, another record), then it is a silent duplicate", () => {
    const duplicate = makeEnvelope(real.event, {
      producer: real.producer,
      causationId: attested.id,
      time: new Date(real.time),
    })
    expect(duplicate.id).not.toBe(real.id)
    expect(refusals(attested, real, duplicate)).toEqual([])
    expect(heldAt0(attested, real, duplicate)).toBe(real.id)
  })

  describe("below the lane's floor (its messages delivered and forgotten)", () => {
    const four = wide.lane.attested(4)
    const first = wide.lane.proven(0, 4, 4)
    const batch = ids.slice(0, 4)
    const submitted = wide.lane.submitted(four.id, {
      action: "commitAndDeliver",
      ids: batch,
      tx: 1,
      nonce: 0,
    })
    const confirmed = wide.lane.confirmed(submitted.id, { action: "commitAndDeliver", ids: batch, tx: 1 })
    const delivered = [four, first, submitted, confirmed] as const

    it("given a chunk that verifies, then it is a silent no-op", () => {
      expect(refusals(...delivered, attested, real)).toEqual([])
    })

    it("given one that does not, then it is refused all the same: a refusal depends on the chunk alone", () => {
      const chunk = forged({ proof: [] })
      expect(refusals(...delivered, attested, chunk).map((r) => r.causationId)).toEqual([chunk.id])
    })
  })

  it("given a single-message proof that does not verify, then it is ignored like every single proof", () => {
    const single = wide.lane.proven(5, 6, 8, 0, "single")
    const forgedSingle = makeEnvelope(new MessageProven({ ...single.event, proof: [] }), {
      producer: single.producer,
      causationId: null,
      time: new Date(single.time),
    })
    expect(run(attested, forgedSingle).outputs).toEqual([])
  })

  it("given the same refused chunk folded twice, then there is one refusal; and each refusal's id is the same on every fold", () => {
    const chunk = forged({ proof: [] })
    expect(refusals(attested, chunk, chunk)).toHaveLength(1)
    // Straight through the core (no runtime dedupe), the second fold stamps the same envelope id.
    const once = core8.decide(core8.initial, chunk, [])
    const twice = core8.decide(once.state, chunk, [])
    expect(stampOutputs(producer, chunk, twice.outputs)).toEqual(stampOutputs(producer, chunk, once.outputs))
    expect(run(attested, chunk, real).outputs.map((o) => o.id)).toEqual(
      run(attested, chunk, real).outputs.map((o) => o.id),
    )
  })

  it("given its own ProofRefused folded back (a rebuild reads chorus.deliveries), then its state is as without it, and it is not refused again", () => {
    const chunks = [
      forged({ proof: [] }),
      forged({ messageIds: [ids[1]!, ids[0]!, ids[2]!, ids[3]!] }),
      forged({ proof: [Bytes32.make(`0x${"55".repeat(32)}`)] }),
    ]
    const live = run(attested, ...chunks, real)
    expect(live.outputs).toHaveLength(3)
    // The log as a rebuild reads it: each refusal after its cause.
    const log = [
      attested,
      chunks[0]!,
      live.outputs[0]!,
      chunks[1]!,
      live.outputs[1]!,
      chunks[2]!,
      live.outputs[2]!,
      real,
    ]
    const rebuilt = run(...log)
    expect(rebuilt.state).toEqual(live.state)
    expect(rebuilt.outputs.map((o) => o.id)).toEqual(live.outputs.map((o) => o.id))
    // A refusal alone changes nothing: the core hands back the very state it was given.
    const refusal = live.outputs[0]!
    expect(core8.decide(core8.initial, refusal, []).state).toBe(core8.initial)
    expect(core8.decide(live.state, refusal, [])).toEqual({ state: live.state, outputs: [] })
  })

  it("given a refused chunk for another destination, then this chain's submitter says nothing", () => {
    const other = submitterCoreFixture(4)
    const elsewhere = makeEnvelope(
      new MessageProven({
        ...other.lane.proven(0, 4, 4).event,
        checkpoint: new Checkpoint({ ...other.lane.checkpoint(4), dstChainId: ChainId.make(903) }),
        proof: [Bytes32.make(`0x${"66".repeat(32)}`)],
      }),
      { producer: real.producer, causationId: null, time: new Date(real.time) },
    )
    expect(refusals(elsewhere)).toEqual([])
  })
})
